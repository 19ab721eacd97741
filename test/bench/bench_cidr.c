/* Micro-benchmark of the cidr/ allocator. Every figure is measured here with
 * clock_gettime(CLOCK_MONOTONIC): the median of 5 runs, each long enough (about
 * 50 ms) that timer overhead does not matter. Not run by ctest (`make bench`). */
#include "cidr.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RUNS 5

static volatile uint64_t sink;

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v)
{
	qsort(v, RUNS, sizeof(double), cmp_double);
	return v[RUNS / 2];
}

static void die(const char *what)
{
	fprintf(stderr, "bench_cidr: %s\n", what);
	exit(1);
}

static cidr_pool *new_pool(const char *subnet)
{
	cidr_prefix p;
	cidr_pool *pool = NULL;
	hk_errinfo ei = {0};
	if (cidr_parse_prefix(subnet, 0, &p, &ei) != HK_OK ||
	    cidr_pool_new(&p, &pool, &ei) != HK_OK)
		die(ei.text);
	return pool;
}

static void mark(cidr_pool *pool, cidr_u128 v, cidr_family fam)
{
	cidr_addr a = cidr_addr_from_u128(fam, v);
	hk_errinfo ei = {0};
	if (cidr_pool_mark_used_addr(pool, &a, &ei) != HK_OK)
		die(ei.text);
}

/* ns per cidr_pool_next_free(NULL) call. */
static double bench_first_free(cidr_pool *pool)
{
	double r[RUNS];
	for (int run = 0; run < RUNS; run++) {
		size_t iters = 0;
		double t0 = now_ns(), t1;
		do {
			for (int k = 0; k < 1000; k++) {
				cidr_addr a;
				if (cidr_pool_next_free(pool, NULL, &a) != HK_OK)
					die("no free address");
				sink += a.bytes[3];
			}
			iters += 1000;
			t1 = now_ns();
		} while (t1 - t0 < 5e7);
		r[run] = (t1 - t0) / (double)iters;
	}
	return median(r);
}

/* ns per cidr_pool_alloc(n) call; each allocation is released again (not timed) so
 * every call sees the same pool. */
static double bench_alloc(cidr_pool *pool, size_t n)
{
	double r[RUNS];
	cidr_addr got[64];
	if (n > 64)
		die("n too large");
	for (int run = 0; run < RUNS; run++) {
		size_t iters = 0;
		double spent = 0, start = now_ns();
		do {
			double t0 = now_ns();
			if (cidr_pool_alloc(pool, n, got) != HK_OK)
				die("alloc failed");
			spent += now_ns() - t0;
			for (size_t i = 0; i < n; i++)
				if (cidr_pool_release(pool, &got[i]) != HK_OK)
					die("release failed");
			iters++;
		} while (now_ns() - start < 5e7);
		r[run] = spent / (double)iters;
	}
	return median(r);
}

/* For contrast: a naive scan asking the state of each address from the start. */
static double bench_naive_scan(cidr_pool *pool)
{
	const cidr_prefix *s = cidr_pool_subnet(pool);
	double r[RUNS];
	for (int run = 0; run < RUNS; run++) {
		size_t iters = 0;
		double t0 = now_ns(), t1;
		do {
			cidr_iter it;
			cidr_addr a;
			cidr_iter_init_prefix(&it, s);
			while (cidr_iter_next(&it, &a) && cidr_pool_addr_state(pool, &a) != 0)
				;
			sink += a.bytes[3];
			iters++;
			t1 = now_ns();
		} while (t1 - t0 < 5e7);
		r[run] = (t1 - t0) / (double)iters;
	}
	return median(r);
}

static void row(const char *what, double ns)
{
	if (ns >= 1e6)
		printf("  %-64s %10.2f ms\n", what, ns / 1e6);
	else if (ns >= 1e3)
		printf("  %-64s %10.2f us\n", what, ns / 1e3);
	else
		printf("  %-64s %10.1f ns\n", what, ns);
}

int main(void)
{
	printf("bench_cidr: time per operation (clock_gettime, median of %d runs)\n", RUNS);

	/* IPv4 /16, 60,000 used from the start: the first free address is near the end,
	 * the worst case for a scan. */
	cidr_pool *p16 = new_pool("10.1.0.0/16");
	double t0 = now_ns();
	for (uint32_t off = 4; off < 60004; off++)
		mark(p16, 0x0a010000u + off, CIDR_V4);
	double load = (now_ns() - t0) / 60000.0;
	row("/16: mark_used, per address (60,000 addresses)", load);
	row("/16, 60,000 used from the start: first-free lookup", bench_first_free(p16));
	row("/16, 60,000 used from the start: alloc(1)", bench_alloc(p16, 1));
	row("/16, 60,000 used from the start: alloc(16)", bench_alloc(p16, 16));
	row("/16, 60,000 used from the start: naive per-address scan (contrast)",
	    bench_naive_scan(p16));
	cidr_pool_free(p16);

	/* IPv4 /16, 60,000 used scattered (deterministic shuffle). */
	cidr_pool *p16s = new_pool("10.1.0.0/16");
	uint32_t *offs = malloc(65531 * sizeof(uint32_t));
	if (!offs)
		die("out of memory");
	for (uint32_t i = 0; i < 65531; i++)
		offs[i] = i + 4;
	uint64_t x = 42;
	for (uint32_t i = 65530; i > 0; i--) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		uint32_t j = (uint32_t)((x >> 33) % (i + 1));
		uint32_t t = offs[i];
		offs[i] = offs[j];
		offs[j] = t;
	}
	for (uint32_t i = 0; i < 60000; i++)
		mark(p16s, 0x0a010000u + offs[i], CIDR_V4);
	free(offs);
	row("/16, 60,000 used scattered: first-free lookup", bench_first_free(p16s));
	row("/16, 60,000 used scattered: alloc(16)", bench_alloc(p16s, 16));
	cidr_pool_free(p16s);

	/* IPv4 /24 with 100 used and a /26 pod reservation. */
	cidr_pool *p24 = new_pool("10.0.1.0/24");
	for (uint32_t off = 4; off < 104; off++)
		mark(p24, 0x0a000100u + off, CIDR_V4);
	cidr_prefix pods;
	hk_errinfo ei = {0};
	if (cidr_parse_prefix("10.0.1.192/26", 0, &pods, &ei) != HK_OK ||
	    cidr_pool_reserve(p24, &pods, CIDR_RESV_EXPLICIT, &ei) != HK_OK)
		die(ei.text);
	row("/24, 100 used + /26 reserved: first-free lookup", bench_first_free(p24));
	row("/24, 100 used + /26 reserved: alloc(3)", bench_alloc(p24, 3));
	cidr_pool_free(p24);

	/* IPv6 /64: 10,000 used from the start plus 100,000 scattered over the /64. */
	cidr_pool *p6 = new_pool("2600:1f18:abcd:1200::/64");
	cidr_prefix s6 = *cidr_pool_subnet(p6);
	cidr_u128 base = cidr_addr_to_u128(&s6.addr);
	t0 = now_ns();
	for (uint32_t off = 4; off < 10004; off++)
		mark(p6, base + off, CIDR_V6);
	x = 7;
	for (int i = 0; i < 100000; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		mark(p6, base + (x | 0x1000000), CIDR_V6);
	}
	cidr_addr probe;
	if (cidr_pool_next_free(p6, NULL, &probe) != HK_OK) /* includes the merge */
		die("no free address");
	load = (now_ns() - t0) / 110000.0;
	row("IPv6 /64: mark_used, per address (110,000, random order)", load);
	row("IPv6 /64, 110,000 used: first-free lookup", bench_first_free(p6));
	row("IPv6 /64, 110,000 used: alloc(1)", bench_alloc(p6, 1));
	row("IPv6 /64, 110,000 used: alloc(16)", bench_alloc(p6, 16));
	cidr_pool_free(p6);
	printf("bench_cidr: done (sink %llu)\n", (unsigned long long)(sink & 1));
	return 0;
}

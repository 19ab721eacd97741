/* Capped file read, environment lookup, hex digits, clocks, wiping. */
#include "hk_util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

hk_err hk_file_read(const char *path, size_t cap, char **ret, size_t *ret_len, hk_errinfo *ei)
{
	return hk_file_read_flags(path, cap, 0, ret, ret_len, ei);
}

hk_err hk_file_read_flags(const char *path, size_t cap, unsigned flags, char **ret, size_t *ret_len,
			  hk_errinfo *ei)
{
	*ret = NULL;
	/* O_NONBLOCK: opening a FIFO returns at once (and is refused below). */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK |
				(flags & HK_FILE_NOFOLLOW ? O_NOFOLLOW : 0));
	if (fd < 0) {
		int e = errno;
		if (e == ELOOP && (flags & HK_FILE_NOFOLLOW))
			return hk_errinfo_set(ei, HK_ERR_IO, 0,
					      "%s: a symbolic link: name the file itself", path);
		return hk_errinfo_set(ei, e == ENOENT ? HK_ERR_NOT_FOUND : HK_ERR_IO, 0,
				      "%s: cannot open: %s", path, strerror(e));
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return hk_errinfo_set(ei, HK_ERR_IO, 0, "%s: not a regular file", path);
	}
	if ((uint64_t)st.st_size > cap) {
		close(fd);
		return hk_errinfo_set(ei, HK_ERR_TOO_LARGE, 0, "%s: larger than %zu bytes", path,
				      cap);
	}
	/* Read up to cap + 1 bytes whatever fstat said: the file may grow. */
	size_t size = (size_t)st.st_size < cap ? (size_t)st.st_size + 1 : cap + 1;
	char *buf = malloc(size + 1);
	if (!buf) {
		close(fd);
		return hk_errinfo_set(ei, HK_ERR_NOMEM, 0, "%s: out of memory", path);
	}
	size_t len = 0;
	for (;;) {
		if (len == size) {
			if (size > cap)
				break;
			size_t ns = size * 2 > cap + 1 ? cap + 1 : size * 2;
			char *nb = realloc(buf, ns + 1);
			if (!nb) {
				free(buf);
				close(fd);
				return hk_errinfo_set(ei, HK_ERR_NOMEM, 0, "%s: out of memory",
						      path);
			}
			buf = nb;
			size = ns;
		}
		ssize_t n = read(fd, buf + len, size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			free(buf);
			close(fd);
			return hk_errinfo_set(ei, HK_ERR_IO, 0, "%s: read failed: %s", path,
					      strerror(e));
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (len > cap) {
		free(buf);
		return hk_errinfo_set(ei, HK_ERR_TOO_LARGE, 0, "%s: larger than %zu bytes", path,
				      cap);
	}
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	return HK_OK;
}

const char *hk_env_get(hk_getenv_fn fn, void *arg, const char *name)
{
	const char *v = fn ? fn(name, arg) : getenv(name);
	return v && *v ? v : NULL;
}

int hk_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int64_t clock_ms(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t hk_mono_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

int64_t hk_wall_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}

void hk_wipe(void *p, size_t len)
{
	if (p && len)
		OPENSSL_cleanse(p, len);
}

void hk_free_secret(char *s)
{
	if (!s)
		return;
	hk_wipe(s, strlen(s));
	free(s);
}

void *hk_grow(void *v, size_t n, size_t *cap, size_t size, size_t first)
{
	if (n < *cap)
		return v;
	size_t nc = *cap ? *cap * 2 : (first ? first : 1);
	if (nc < *cap || size == 0 || nc > SIZE_MAX / size)
		return NULL;
	void *nv = realloc(v, nc * size);
	if (nv)
		*cap = nc;
	return nv;
}

const char *hk_name_of(const char *const *names, size_t n, unsigned v, const char *dflt)
{
	return v < n && names[v] ? names[v] : dflt;
}

int hk_name_find(const char *const *names, size_t n, size_t first, const char *s)
{
	for (size_t i = first; s && i < n; i++)
		if (names[i] && strcmp(s, names[i]) == 0)
			return (int)i;
	return -1;
}

/* The Prometheus metrics registry (hk_metrics.h). */
#include "hk_metrics.h"
#include "hk_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct series {
	char *values[HK_METRICS_MAX_LABELS];
	double value;	 /* counter / gauge; histogram: sum */
	double count;	 /* histogram */
	double *buckets; /* histogram: per bound (not cumulative) */
} series;

struct hk_metric {
	hk_metrics *reg;
	hk_metric_type type;
	char *name;
	char *help;
	char *labels[HK_METRICS_MAX_LABELS];
	size_t n_labels;
	double bounds[HK_METRICS_MAX_BUCKETS];
	size_t n_bounds;
	series *s;
	size_t n_s, cap_s;
};

typedef struct collector {
	hk_metrics_collect_fn fn;
	void *arg;
} collector;

struct hk_metrics {
	hk_metric **fam;
	size_t n_fam, cap_fam;
	collector *col;
	size_t n_col;
	size_t dropped;
};

hk_metrics *hk_metrics_new(void)
{
	return calloc(1, sizeof(hk_metrics));
}

static void series_cleanup(series *s, size_t n_labels)
{
	for (size_t i = 0; i < n_labels; i++)
		free(s->values[i]);
	free(s->buckets);
}

static void metric_free(hk_metric *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n_s; i++)
		series_cleanup(&m->s[i], m->n_labels);
	free(m->s);
	for (size_t i = 0; i < m->n_labels; i++)
		free(m->labels[i]);
	free(m->name);
	free(m->help);
	free(m);
}

void hk_metrics_free(hk_metrics *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_fam; i++)
		metric_free(r->fam[i]);
	free(r->fam);
	free(r->col);
	free(r);
}

static bool name_ok(const char *s, bool colon)
{
	if (!s || !*s)
		return false;
	for (size_t i = 0; s[i]; i++) {
		char c = s[i];
		bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
			     (colon && c == ':');
		if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
			return false;
	}
	return true;
}

static bool parse_labels(hk_metric *m, const char *labels)
{
	if (!labels || !*labels)
		return true;
	const char *p = labels;
	for (;;) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (m->n_labels == HK_METRICS_MAX_LABELS)
			return false;
		char *l = strndup(p, n);
		if (!l)
			return false;
		m->labels[m->n_labels++] = l;
		/* "le" is the histogram's own; "__" names are reserved */
		if (!name_ok(l, false) || !strncmp(l, "__", 2) ||
		    (m->type == HK_METRIC_HISTOGRAM && !strcmp(l, "le")))
			return false;
		for (size_t i = 0; i + 1 < m->n_labels; i++)
			if (!strcmp(m->labels[i], l))
				return false;
		if (!e)
			return true;
		p = e + 1;
	}
}

hk_metric *hk_metrics_find(const hk_metrics *r, const char *name)
{
	for (size_t i = 0; r && i < r->n_fam; i++)
		if (!strcmp(r->fam[i]->name, name))
			return r->fam[i];
	return NULL;
}

hk_metric *hk_metrics_add(hk_metrics *r, hk_metric_type type, const char *name, const char *help,
			  const char *labels, const double *bounds, size_t n_bounds)
{
	if (!r || !name_ok(name, true) || hk_metrics_find(r, name))
		return NULL;
	if (type == HK_METRIC_HISTOGRAM &&
	    (!bounds || !n_bounds || n_bounds > HK_METRICS_MAX_BUCKETS))
		return NULL;
	hk_metric *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->reg = r;
	m->type = type;
	m->name = strdup(name);
	m->help = strdup(help ? help : "");
	if (!m->name || !m->help || !parse_labels(m, labels))
		goto fail;
	if (type == HK_METRIC_HISTOGRAM) {
		for (size_t i = 0; i < n_bounds; i++) {
			if (!isfinite(bounds[i]) || (i && bounds[i] <= bounds[i - 1]))
				goto fail;
			m->bounds[i] = bounds[i];
		}
		m->n_bounds = n_bounds;
	}
	hk_metric **v = hk_grow(r->fam, r->n_fam, &r->cap_fam, sizeof(*v), 16);
	if (!v)
		goto fail;
	r->fam = v;
	r->fam[r->n_fam++] = m;
	return m;
fail:
	metric_free(m);
	return NULL;
}

static series *find_series(const hk_metric *m, const char *const *values)
{
	for (size_t i = 0; i < m->n_s; i++) {
		size_t k = 0;
		for (; k < m->n_labels; k++)
			if (strcmp(m->s[i].values[k], values[k] ? values[k] : ""))
				break;
		if (k == m->n_labels)
			return &m->s[i];
	}
	return NULL;
}

static series *get_series(hk_metric *m, const char *const *values)
{
	series *s = find_series(m, values);
	if (s)
		return s;
	if (m->n_s >= HK_METRICS_MAX_SERIES)
		goto drop;
	series *v = hk_grow(m->s, m->n_s, &m->cap_s, sizeof(*v), 4);
	if (!v)
		goto drop;
	m->s = v;
	s = &m->s[m->n_s];
	memset(s, 0, sizeof(*s));
	for (size_t k = 0; k < m->n_labels; k++) {
		s->values[k] = strdup(values[k] ? values[k] : "");
		if (!s->values[k]) {
			series_cleanup(s, k);
			goto drop;
		}
	}
	if (m->type == HK_METRIC_HISTOGRAM) {
		s->buckets = calloc(m->n_bounds, sizeof(double));
		if (!s->buckets) {
			series_cleanup(s, m->n_labels);
			goto drop;
		}
	}
	m->n_s++;
	return s;
drop:
	m->reg->dropped++;
	return NULL;
}

void hk_metric_add(hk_metric *m, const char *const *values, double v)
{
	if (!m || m->type == HK_METRIC_HISTOGRAM || isnan(v) ||
	    (m->type == HK_METRIC_COUNTER && v < 0))
		return;
	series *s = get_series(m, values);
	if (s)
		s->value += v;
}

void hk_metric_set(hk_metric *m, const char *const *values, double v)
{
	if (!m || m->type != HK_METRIC_GAUGE)
		return;
	series *s = get_series(m, values);
	if (s)
		s->value = v;
}

void hk_metric_observe(hk_metric *m, const char *const *values, double v)
{
	if (!m || m->type != HK_METRIC_HISTOGRAM || isnan(v))
		return;
	series *s = get_series(m, values);
	if (!s)
		return;
	s->count += 1;
	s->value += v;
	for (size_t i = 0; i < m->n_bounds; i++) {
		if (v <= m->bounds[i]) {
			s->buckets[i] += 1;
			break;
		}
	}
}

void hk_metric_reset(hk_metric *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n_s; i++)
		series_cleanup(&m->s[i], m->n_labels);
	m->n_s = 0;
}

double hk_metric_value(const hk_metric *m, const char *const *values)
{
	if (!m)
		return 0;
	const series *s = find_series(m, values);
	if (!s)
		return 0;
	return m->type == HK_METRIC_HISTOGRAM ? s->count : s->value;
}

void hk_metric_inc(hk_metric *m)
{
	hk_metric_add(m, NULL, 1);
}

void hk_metric_inc1(hk_metric *m, const char *v1)
{
	const char *v[] = {v1};
	hk_metric_add(m, v, 1);
}

void hk_metric_inc2(hk_metric *m, const char *v1, const char *v2)
{
	const char *v[] = {v1, v2};
	hk_metric_add(m, v, 1);
}

void hk_metric_inc3(hk_metric *m, const char *v1, const char *v2, const char *v3)
{
	const char *v[] = {v1, v2, v3};
	hk_metric_add(m, v, 1);
}

hk_err hk_metrics_on_collect(hk_metrics *r, hk_metrics_collect_fn fn, void *arg)
{
	collector *v = realloc(r->col, (r->n_col + 1) * sizeof(*v));
	if (!v)
		return HK_ERR_NOMEM;
	r->col = v;
	r->col[r->n_col++] = (collector){fn, arg};
	return HK_OK;
}

size_t hk_metrics_dropped(const hk_metrics *r)
{
	return r ? r->dropped : 0;
}

/* ---- rendering */

static void put_number(FILE *f, double v)
{
	if (isnan(v))
		fputs("NaN", f);
	else if (isinf(v))
		fputs(v > 0 ? "+Inf" : "-Inf", f);
	else if (v == floor(v) && fabs(v) < 9007199254740992.0)
		fprintf(f, "%.0f", v);
	else
		fprintf(f, "%.17g", v);
}

/* HELP text escapes \ and newline; label values also escape the quote. */
static void put_escaped(FILE *f, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else if (quote && *s == '"')
			fputs("\\\"", f);
		else
			fputc(*s, f);
	}
}

/* {a="x",b="y"[,le="..."]} or nothing. */
static void put_labels(FILE *f, const hk_metric *m, const series *s, const char *le)
{
	if (!m->n_labels && !le)
		return;
	fputc('{', f);
	for (size_t k = 0; k < m->n_labels; k++) {
		fprintf(f, "%s%s=\"", k ? "," : "", m->labels[k]);
		put_escaped(f, s->values[k], true);
		fputc('"', f);
	}
	if (le)
		fprintf(f, "%sle=\"%s\"", m->n_labels ? "," : "", le);
	fputc('}', f);
}

static void put_histogram(FILE *f, const hk_metric *m, const series *s)
{
	double cum = 0;
	char le[64];
	for (size_t i = 0; i < m->n_bounds; i++) {
		cum += s->buckets[i];
		if (m->bounds[i] == floor(m->bounds[i]) && fabs(m->bounds[i]) < 1e15)
			snprintf(le, sizeof(le), "%.1f", m->bounds[i]);
		else
			snprintf(le, sizeof(le), "%.17g", m->bounds[i]);
		fprintf(f, "%s_bucket", m->name);
		put_labels(f, m, s, le);
		fputc(' ', f);
		put_number(f, cum);
		fputc('\n', f);
	}
	fprintf(f, "%s_bucket", m->name);
	put_labels(f, m, s, "+Inf");
	fputc(' ', f);
	put_number(f, s->count);
	fprintf(f, "\n%s_sum", m->name);
	put_labels(f, m, s, NULL);
	fputc(' ', f);
	put_number(f, s->value);
	fprintf(f, "\n%s_count", m->name);
	put_labels(f, m, s, NULL);
	fputc(' ', f);
	put_number(f, s->count);
	fputc('\n', f);
}

static const char *type_name(hk_metric_type t)
{
	return t == HK_METRIC_COUNTER ? "counter" : t == HK_METRIC_GAUGE ? "gauge" : "histogram";
}

hk_err hk_metrics_render(hk_metrics *r, char **ret, size_t *ret_len)
{
	for (size_t i = 0; i < r->n_col; i++)
		r->col[i].fn(r, r->col[i].arg);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return HK_ERR_NOMEM;
	for (size_t i = 0; i < r->n_fam; i++) {
		const hk_metric *m = r->fam[i];
		fprintf(f, "# HELP %s ", m->name);
		put_escaped(f, m->help, false);
		fprintf(f, "\n# TYPE %s %s\n", m->name, type_name(m->type));
		for (size_t j = 0; j < m->n_s; j++) {
			const series *s = &m->s[j];
			if (m->type == HK_METRIC_HISTOGRAM) {
				put_histogram(f, m, s);
				continue;
			}
			fputs(m->name, f);
			put_labels(f, m, s, NULL);
			fputc(' ', f);
			put_number(f, s->value);
			fputc('\n', f);
		}
	}
	if (ferror(f)) {
		fclose(f);
		free(buf);
		return HK_ERR_NOMEM;
	}
	if (fclose(f) != 0) {
		free(buf);
		return HK_ERR_NOMEM;
	}
	*ret = buf;
	*ret_len = len;
	return HK_OK;
}

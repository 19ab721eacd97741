/* A small Prometheus metrics registry: counters, gauges and histograms with
 * labels, rendered in the text exposition format 0.0.4.
 *
 * Single-threaded (the event loop). Families are created once at start-up;
 * series (one per combination of label values) appear on first use, up to
 * HK_METRICS_MAX_SERIES per family (later combinations are counted in the
 * registry's dropped-series total instead, so a label fed by outside data can
 * never grow memory without bound). Label values are given as an array of
 * strings, one per label name, in the order the family declared them. */
#ifndef HK_METRICS_H
#define HK_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#include "hk_common.h"

#define HK_METRICS_MAX_LABELS  4
#define HK_METRICS_MAX_SERIES  512
#define HK_METRICS_MAX_BUCKETS 32

typedef struct hk_metrics hk_metrics;
typedef struct hk_metric hk_metric;

typedef enum hk_metric_type {
	HK_METRIC_COUNTER,
	HK_METRIC_GAUGE,
	HK_METRIC_HISTOGRAM
} hk_metric_type;

hk_metrics *hk_metrics_new(void);
void hk_metrics_free(hk_metrics *r);

/* A family. `name` must match [a-zA-Z_:][a-zA-Z0-9_:]* (a counter's name ends
 * in _total by convention; the caller chooses), `labels` is a comma-separated
 * list of label names or NULL/"" for none. A histogram needs `bounds`
 * (strictly increasing upper bounds, at most HK_METRICS_MAX_BUCKETS; +Inf is
 * implicit). NULL on a bad name, bad labels, a duplicate name or no memory:
 * the update functions accept a NULL family and do nothing, so start-up code
 * stays linear. */
hk_metric *hk_metrics_add(hk_metrics *r, hk_metric_type type, const char *name, const char *help,
			  const char *labels, const double *bounds, size_t n_bounds);
hk_metric *hk_metrics_find(const hk_metrics *r, const char *name);

/* Counter: add v >= 0 (a negative v is ignored). Gauge: add v (any sign). */
void hk_metric_add(hk_metric *m, const char *const *values, double v);
/* Gauge: set. */
void hk_metric_set(hk_metric *m, const char *const *values, double v);
/* Histogram: one observation. */
void hk_metric_observe(hk_metric *m, const char *const *values, double v);
/* Gauge families refreshed at collection time: drop every series first. */
void hk_metric_reset(hk_metric *m);
/* The value of a counter or gauge series (0 when it does not exist), or a
 * histogram series' count; for tests and status output. */
double hk_metric_value(const hk_metric *m, const char *const *values);

/* Shorthands for families with no, one or two labels. */
void hk_metric_inc(hk_metric *m);
void hk_metric_inc1(hk_metric *m, const char *v1);
void hk_metric_inc2(hk_metric *m, const char *v1, const char *v2);
void hk_metric_inc3(hk_metric *m, const char *v1, const char *v2, const char *v3);

/* Called (in registration order) at the start of every render, to refresh
 * gauges computed from state (queue depths, free addresses). */
typedef void (*hk_metrics_collect_fn)(hk_metrics *r, void *arg);
hk_err hk_metrics_on_collect(hk_metrics *r, hk_metrics_collect_fn fn, void *arg) HK_MUST_CHECK;

/* The whole registry as text format 0.0.4 (# HELP, # TYPE, samples; families
 * in registration order, series in creation order), malloc'd, NUL-terminated. */
hk_err hk_metrics_render(hk_metrics *r, char **ret, size_t *ret_len) HK_MUST_CHECK;

/* Series that could not be created (cap reached or no memory). */
size_t hk_metrics_dropped(const hk_metrics *r);

#endif

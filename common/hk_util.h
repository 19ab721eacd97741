/* Small utilities every module needs: capped whole-file read, environment
 * lookup, hex digits, clocks. Depends on hk_common.h only. */
#ifndef HK_UTIL_H
#define HK_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hk_common.h"

/* Read the regular file `path` whole into a NUL-terminated malloc'd buffer
 * (*ret, length *ret_len; the NUL is not counted). Synchronous by design: it
 * is for local configuration and token files, never for anything network-fed.
 * HK_ERR_NOT_FOUND when the file does not exist, HK_ERR_IO when it cannot be
 * opened or read or is not a regular file, HK_ERR_TOO_LARGE when it holds more
 * than `cap` bytes (checked while reading, so a growing file or a pipe cannot
 * exceed it), HK_ERR_NOMEM. `ei` (may be NULL) names the path and the reason.
 * On error *ret is NULL. */
hk_err hk_file_read(const char *path, size_t cap, char **ret, size_t *ret_len,
		    hk_errinfo *ei) HK_MUST_CHECK;
/* hk_file_read with HK_FILE_NOFOLLOW: a symbolic link as the last component
 * is refused (the configuration file). */
#define HK_FILE_NOFOLLOW 1u
HK_MUST_CHECK hk_err hk_file_read_flags(const char *path, size_t cap, unsigned flags, char **ret,
					size_t *ret_len, hk_errinfo *ei);

/* An environment lookup function (tests inject one); NULL means getenv. */
typedef const char *(*hk_getenv_fn)(const char *name, void *arg);

/* `name` from `fn` (or the process environment when fn is NULL); an unset or
 * empty variable gives NULL. */
const char *hk_env_get(hk_getenv_fn fn, void *arg, const char *name);

/* The value of one hex digit (0-15), or -1 when `c` is not one. */
int hk_hexval(int c);

/* Milliseconds on CLOCK_MONOTONIC (for deadlines and ages) and on the wall
 * clock (CLOCK_REALTIME, for stored timestamps and AWS times). */
int64_t hk_mono_ms(void);
int64_t hk_wall_ms(void);

/* Room for one more element in a growable array `v` of `n` elements (of
 * `size` bytes) and capacity *cap: `v` itself while n < *cap, else `v`
 * reallocated to twice the capacity (`first` when empty), *cap updated. NULL
 * when out of memory or the size would overflow; `v` and *cap are then
 * unchanged. Use: T *nv = hk_grow(a->v, a->n, &a->cap, sizeof(*nv), 16);
 * if (!nv) fail; a->v = nv; */
void *hk_grow(void *v, size_t n, size_t *cap, size_t size, size_t first);

/* Enum name tables (`names[v]` is the text of value v; n entries; a NULL or
 * missing entry has no text). hk_name_of: names[v], or `dflt` when v is out
 * of range or has no text. hk_name_find: the value whose text is `s`
 * (searching from `first`), or -1 when none is (or s is NULL). */
const char *hk_name_of(const char *const *names, size_t n, unsigned v, const char *dflt);
int hk_name_find(const char *const *names, size_t n, size_t first, const char *s);

/* Overwrite `len` bytes at `p` in a way the compiler keeps (secrets). */
void hk_wipe(void *p, size_t len);
/* hk_wipe() the string (when not NULL) then free it. */
void hk_free_secret(char *s);

#endif

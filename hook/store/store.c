/* The durable state store: one SQLite database in the state directory.
 *
 * - WAL journal, synchronous=FULL: a 202 is sent only after the commit, and
 *   "nothing accepted is ever lost" must hold across power loss too; in WAL
 *   mode NORMAL may roll back the last commits after a power cut (it is only
 *   crash-safe for process death). FULL costs one fsync of the WAL per commit,
 *   which is nothing at lifecycle-event rates.
 * - busy_timeout is short (250 ms): the daemon owns the file (an flock on a
 *   lock file keeps a second daemon out) and runs on one thread, so the lock is
 *   only contended by an operator's tool; then we answer 503 and the sender
 *   retries, instead of stalling the loop.
 * - Every change is one transaction (a single statement in autocommit mode, or
 *   BEGIN IMMEDIATE ... COMMIT around several).
 * - Schema versions live in PRAGMA user_version; migrations run in order, all
 *   in one transaction, at open. */
#include "hook_store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <sqlite3.h>

#define BUSY_TIMEOUT_MS 250

/* Migration N brings the schema from version N-1 to N. Never edit a shipped
 * step: append a new one and bump HOOK_STORE_SCHEMA_VERSION. */
static const char *const migrations[HOOK_STORE_SCHEMA_VERSION] = {
    /* 1: lifecycle actions and their duplicate rules */
    "CREATE TABLE actions ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " instance_id TEXT NOT NULL,"
    " node_group TEXT NOT NULL,"
    " asg TEXT NOT NULL,"
    " hook TEXT NOT NULL,"
    " token TEXT NOT NULL,"
    " transition TEXT NOT NULL,"
    " origin TEXT NOT NULL DEFAULT '',"
    " destination TEXT NOT NULL DEFAULT '',"
    " metadata TEXT,"
    " event_id TEXT,"
    " source TEXT NOT NULL,"
    " state TEXT NOT NULL,"
    " step TEXT NOT NULL DEFAULT '',"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " created_ms INTEGER NOT NULL,"
    " updated_ms INTEGER NOT NULL,"
    " deadline_ms INTEGER NOT NULL DEFAULT 0,"
    " last_error TEXT NOT NULL DEFAULT '',"
    " UNIQUE (token, instance_id));"
    "CREATE UNIQUE INDEX actions_event_id ON actions(event_id) WHERE event_id IS NOT NULL;",
    /* 2: completion result, per-action ENIs, state index, probe table */
    "ALTER TABLE actions ADD COLUMN result TEXT NOT NULL DEFAULT '';"
    "CREATE INDEX actions_state ON actions(state, id);"
    "CREATE TABLE action_enis ("
    " action_id INTEGER NOT NULL REFERENCES actions(id) ON DELETE CASCADE,"
    " network TEXT NOT NULL,"
    " device_index INTEGER NOT NULL,"
    " network_card_index INTEGER NOT NULL DEFAULT 0,"
    " subnet_id TEXT NOT NULL DEFAULT '',"
    " ipv4 TEXT NOT NULL DEFAULT '',"
    " ipv6 TEXT NOT NULL DEFAULT '',"
    " client_token TEXT NOT NULL DEFAULT '',"
    " eni_id TEXT NOT NULL DEFAULT '',"
    " attachment_id TEXT NOT NULL DEFAULT '',"
    " state TEXT NOT NULL DEFAULT '',"
    " updated_ms INTEGER NOT NULL,"
    " PRIMARY KEY (action_id, network));"
    "CREATE INDEX action_enis_subnet ON action_enis(subnet_id);"
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
    /* 3: the actions of one instance (one instance, one plan: the engine
     * looks at an instance's other actions before working on it) */
    "CREATE INDEX actions_instance ON actions(instance_id, id);",
};

#define ACTION_COLS                                                                                \
	"id, instance_id, node_group, asg, hook, token, transition, origin, destination,"          \
	" metadata, event_id, source, state, step, attempts, created_ms, updated_ms,"              \
	" deadline_ms, last_error, result"
#define ENI_COLS                                                                                   \
	"e.action_id, e.network, e.device_index, e.network_card_index, e.subnet_id, e.ipv4,"       \
	" e.ipv6, e.client_token, e.eni_id, e.attachment_id, e.state, e.updated_ms"

enum stmt_id {
	ST_INSERT,
	ST_FIND_DUP,
	ST_GET,
	ST_UPDATE,
	ST_LIST_STATE,
	ST_LIST_ALL,
	ST_LIST_UNFINISHED,
	ST_LIST_INSTANCE,
	ST_ENI_PUT,
	ST_ENI_LIST,
	ST_ENI_HELD,
	ST_PROBE,
	ST__COUNT
};

static const char *const stmt_sql[ST__COUNT] = {
    [ST_INSERT] = "INSERT INTO actions (instance_id, node_group, asg, hook, token, transition,"
		  " origin, destination, metadata, event_id, source, state, created_ms,"
		  " updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 'pending',"
		  " ?12, ?12) ON CONFLICT DO NOTHING",
    [ST_FIND_DUP] = "SELECT id FROM actions WHERE (token = ?1 AND instance_id = ?2)"
		    " OR (?3 IS NOT NULL AND event_id = ?3) ORDER BY id LIMIT 1",
    [ST_GET] = "SELECT " ACTION_COLS " FROM actions WHERE id = ?1",
    [ST_UPDATE] = "UPDATE actions SET state = ?1, step = COALESCE(?2, step),"
		  " last_error = COALESCE(?3, last_error), result = COALESCE(?4, result),"
		  " deadline_ms = COALESCE(?5, deadline_ms), attempts = attempts + ?6,"
		  " updated_ms = ?7 WHERE id = ?8",
    [ST_LIST_STATE] = "SELECT " ACTION_COLS " FROM actions WHERE state = ?1"
		      " ORDER BY id DESC LIMIT ?2",
    [ST_LIST_ALL] = "SELECT " ACTION_COLS " FROM actions ORDER BY id DESC LIMIT ?1",
    [ST_LIST_UNFINISHED] = "SELECT " ACTION_COLS " FROM actions"
			   " WHERE state NOT IN ('done', 'failed') ORDER BY id",
    [ST_LIST_INSTANCE] = "SELECT " ACTION_COLS " FROM actions WHERE instance_id = ?1"
			 " ORDER BY id DESC LIMIT ?2",
    [ST_ENI_PUT] = "INSERT INTO action_enis (action_id, network, device_index,"
		   " network_card_index, subnet_id, ipv4, ipv6, client_token, eni_id,"
		   " attachment_id, state, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
		   " ?9, ?10, ?11, ?12) ON CONFLICT (action_id, network) DO UPDATE SET"
		   " device_index = excluded.device_index,"
		   " network_card_index = excluded.network_card_index,"
		   " subnet_id = excluded.subnet_id, ipv4 = excluded.ipv4, ipv6 = excluded.ipv6,"
		   " client_token = excluded.client_token, eni_id = excluded.eni_id,"
		   " attachment_id = excluded.attachment_id, state = excluded.state,"
		   " updated_ms = excluded.updated_ms",
    [ST_ENI_LIST] = "SELECT " ENI_COLS " FROM action_enis e WHERE e.action_id = ?1"
		    " ORDER BY e.network_card_index, e.device_index",
    [ST_ENI_HELD] = "SELECT " ENI_COLS " FROM action_enis e JOIN actions a ON a.id = e.action_id"
		    " WHERE e.subnet_id = ?1 AND a.state NOT IN ('done', 'failed')"
		    " ORDER BY e.action_id, e.device_index",
    [ST_PROBE] = "INSERT INTO meta (key, value) VALUES ('ready_probe', ?1)"
		 " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
};

struct hook_store {
	sqlite3 *db;
	sqlite3_stmt *st[ST__COUNT];
	int lock_fd;
	char *path;
};

static const char *const state_names[HOOK_ACTION__COUNT] = {
    [HOOK_ACTION_PENDING] = "pending", [HOOK_ACTION_RUNNING] = "running",
    [HOOK_ACTION_CLEANUP] = "cleanup", [HOOK_ACTION_COMPLETING] = "completing",
    [HOOK_ACTION_DONE] = "done",       [HOOK_ACTION_FAILED] = "failed",
};

static const char *const source_names[] = {
    [HOOK_SOURCE_EVENTBRIDGE] = "eventbridge",
    [HOOK_SOURCE_NOTIFICATION] = "notification",
    [HOOK_SOURCE_SNS] = "sns",
};

const char *hook_action_state_str(hook_action_state s)
{
	return hk_name_of(state_names, HOOK_ACTION__COUNT, s, "unknown");
}

hk_err hook_action_state_parse(const char *s, hook_action_state *ret)
{
	int i = hk_name_find(state_names, HOOK_ACTION__COUNT, 0, s);
	if (i < 0)
		return HK_ERR_INVALID;
	*ret = (hook_action_state)i;
	return HK_OK;
}

bool hook_action_state_final(hook_action_state s)
{
	return s == HOOK_ACTION_DONE || s == HOOK_ACTION_FAILED;
}

static hk_err map_rc(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return HK_OK;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return HK_ERR_TRANSIENT;
	case SQLITE_NOMEM:
		return HK_ERR_NOMEM;
	case SQLITE_CONSTRAINT:
		return HK_ERR_EXISTS;
	case SQLITE_MISUSE:
	case SQLITE_RANGE:
		return HK_ERR_INTERNAL;
	default:
		return HK_ERR_IO;
	}
}

static hk_err exec(hook_store *s, const char *sql)
{
	return map_rc(sqlite3_exec(s->db, sql, NULL, NULL, NULL));
}

/* Begin our own transaction unless the caller holds one. *own says whether
 * we must commit/rollback. */
static hk_err txn_enter(hook_store *s, bool *own)
{
	*own = sqlite3_get_autocommit(s->db) != 0;
	if (!*own)
		return HK_OK;
	return exec(s, "BEGIN IMMEDIATE");
}

static hk_err txn_leave(hook_store *s, bool own, hk_err err)
{
	if (!own)
		return err;
	if (err == HK_OK) {
		err = exec(s, "COMMIT");
		if (err == HK_OK)
			return HK_OK;
	}
	if (!sqlite3_get_autocommit(s->db))
		(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return err;
}

hk_err hook_store_begin(hook_store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		return HK_ERR_STATE;
	return exec(s, "BEGIN IMMEDIATE");
}

hk_err hook_store_commit(hook_store *s)
{
	if (sqlite3_get_autocommit(s->db))
		return HK_ERR_STATE;
	hk_err err = exec(s, "COMMIT");
	if (err != HK_OK && !sqlite3_get_autocommit(s->db))
		(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return err;
}

void hook_store_rollback(hook_store *s)
{
	if (s && !sqlite3_get_autocommit(s->db))
		(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

static int user_version(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	int v = -1;
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

int hook_store_schema_version(hook_store *s)
{
	return user_version(s->db);
}

static hk_err migrate(hook_store *s, hk_errinfo *ei)
{
	int cur = user_version(s->db);
	if (cur < 0)
		return hk_errinfo_set(ei, HK_ERR_IO, 0, "%s: cannot read the schema version: %s",
				      s->path, sqlite3_errmsg(s->db));
	if (cur > HOOK_STORE_SCHEMA_VERSION)
		return hk_errinfo_set(ei, HK_ERR_STATE, 0,
				      "%s: schema version %d is newer than this binary's %d "
				      "(downgrade is not supported)",
				      s->path, cur, HOOK_STORE_SCHEMA_VERSION);
	if (cur == HOOK_STORE_SCHEMA_VERSION)
		return HK_OK;
	hk_err err = exec(s, "BEGIN IMMEDIATE");
	if (err)
		return hk_errinfo_set(ei, err, 0, "%s: cannot start the migration: %s", s->path,
				      sqlite3_errmsg(s->db));
	for (int v = cur + 1; v <= HOOK_STORE_SCHEMA_VERSION; v++) {
		char sql[64];
		err = exec(s, migrations[v - 1]);
		if (err == HK_OK) {
			snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v);
			err = exec(s, sql);
		}
		if (err) {
			hk_errinfo_set(ei, err, 0, "%s: migration to schema %d failed: %s", s->path,
				       v, sqlite3_errmsg(s->db));
			(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
			return err;
		}
	}
	err = exec(s, "COMMIT");
	if (err) {
		hk_errinfo_set(ei, err, 0, "%s: migration commit failed: %s", s->path,
			       sqlite3_errmsg(s->db));
		(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	}
	return err;
}

void hook_store_close(hook_store *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < ST__COUNT; i++)
		sqlite3_finalize(s->st[i]);
	if (s->db)
		sqlite3_close(s->db); /* checkpoints the WAL when last */
	if (s->lock_fd >= 0)
		close(s->lock_fd); /* releases the flock */
	free(s->path);
	free(s);
}

static char *join_path(const char *dir, const char *name)
{
	size_t n = strlen(dir) + 1 + strlen(name) + 1;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

hk_err hook_store_open(const char *dir, hook_store **ret, hk_errinfo *ei)
{
	if (!dir || !*dir || !ret)
		return hk_errinfo_set(ei, HK_ERR_INVALID, 0, "no state directory");
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return hk_errinfo_set(ei, HK_ERR_IO, 0, "%s: cannot create: %s", dir,
				      strerror(errno));
	struct stat st;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return hk_errinfo_set(ei, HK_ERR_IO, 0, "%s: not a directory", dir);

	hook_store *s = calloc(1, sizeof(*s));
	if (!s)
		return hk_errinfo_set(ei, HK_ERR_NOMEM, 0, "out of memory");
	s->lock_fd = -1;
	hk_err err = HK_OK;
	char *lock_path = join_path(dir, HOOK_STORE_LOCK_FILE);
	s->path = join_path(dir, HOOK_STORE_FILE);
	if (!lock_path || !s->path) {
		err = hk_errinfo_set(ei, HK_ERR_NOMEM, 0, "out of memory");
		goto fail;
	}
	s->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lock_fd < 0) {
		err = hk_errinfo_set(ei, HK_ERR_IO, 0, "%s: cannot open: %s", lock_path,
				     strerror(errno));
		goto fail;
	}
	if (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		err = hk_errinfo_set(
		    ei, errno == EWOULDBLOCK ? HK_ERR_EXISTS : HK_ERR_IO, 0, "%s: %s", lock_path,
		    errno == EWOULDBLOCK ? "another multus-hookd uses this state directory"
					 : strerror(errno));
		goto fail;
	}
	/* Create the database file ourselves so it is 0600 from the start (SQLite
	 * would use 0644 & ~umask); the -wal and -shm files copy its mode. */
	int fd = open(s->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = hk_errinfo_set(ei, HK_ERR_IO, 0, "%s: cannot open: %s", s->path,
				     strerror(errno));
		goto fail;
	}
	if (fstat(fd, &st) == 0 && (st.st_mode & 0777) != 0600 && fchmod(fd, 0600) != 0) {
		err = hk_errinfo_set(ei, HK_ERR_IO, 0, "%s: cannot chmod 0600: %s", s->path,
				     strerror(errno));
		close(fd);
		goto fail;
	}
	close(fd);

	int rc =
	    sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		err = hk_errinfo_set(ei, HK_ERR_IO, 0, "%s: cannot open the database: %s", s->path,
				     s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	sqlite3_stmt *jm = NULL;
	bool wal = false;
	if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &jm, NULL) == SQLITE_OK &&
	    sqlite3_step(jm) == SQLITE_ROW) {
		const unsigned char *mode = sqlite3_column_text(jm, 0);
		wal = mode && !strcmp((const char *)mode, "wal");
	}
	sqlite3_finalize(jm);
	if (!wal) {
		err = hk_errinfo_set(ei, HK_ERR_IO, 0, "%s: cannot switch to WAL mode: %s", s->path,
				     sqlite3_errmsg(s->db));
		goto fail;
	}
	if ((err = exec(s, "PRAGMA synchronous = FULL")) ||
	    (err = exec(s, "PRAGMA foreign_keys = ON"))) {
		hk_errinfo_set(ei, err, 0, "%s: %s", s->path, sqlite3_errmsg(s->db));
		goto fail;
	}
	if ((err = migrate(s, ei)))
		goto fail;
	for (size_t i = 0; i < ST__COUNT; i++) {
		rc = sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
					&s->st[i], NULL);
		if (rc != SQLITE_OK) {
			err = hk_errinfo_set(ei, map_rc(rc), 0, "%s: prepare %zu: %s", s->path, i,
					     sqlite3_errmsg(s->db));
			goto fail;
		}
	}
	free(lock_path);
	*ret = s;
	return HK_OK;
fail:
	free(lock_path);
	hook_store_close(s);
	return err;
}

/* ------------------------------------------------------------ row helpers */

static char *col_dup(sqlite3_stmt *st, int i, bool *oom)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	char *d = strdup(t ? (const char *)t : "");
	if (!d)
		*oom = true;
	return d;
}

/* The text columns of a row: text[i], when set, receives column i's copy. */
static void col_dups(sqlite3_stmt *st, char **const *text, size_t n, bool *oom)
{
	for (size_t i = 0; i < n; i++)
		if (text[i])
			*text[i] = col_dup(st, (int)i, oom);
}

void hook_action_cleanup(hook_action *a)
{
	if (!a)
		return;
	char **f[] = {&a->instance_id, &a->group,	&a->asg,      &a->hook,	    &a->token,
		      &a->origin,      &a->destination, &a->metadata, &a->event_id, &a->source,
		      &a->step,	       &a->last_error,	&a->result};
	for (size_t i = 0; i < HK_ARRAY_LEN(f); i++) {
		free(*f[i]);
		*f[i] = NULL;
	}
}

void hook_actions_free(hook_action *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		hook_action_cleanup(&v[i]);
	free(v);
}

static hk_err read_action(sqlite3_stmt *st, hook_action *a)
{
	bool oom = false;
	memset(a, 0, sizeof(*a));
	a->id = sqlite3_column_int64(st, 0);
	char **const text[] = {
	    [1] = &a->instance_id, [2] = &a->group,   [3] = &a->asg,	     [4] = &a->hook,
	    [5] = &a->token,	   [7] = &a->origin,  [8] = &a->destination, [9] = &a->metadata,
	    [10] = &a->event_id,   [11] = &a->source, [13] = &a->step,	     [18] = &a->last_error,
	    [19] = &a->result};
	col_dups(st, text, HK_ARRAY_LEN(text), &oom);
	const unsigned char *tr = sqlite3_column_text(st, 6);
	if (hook_transition_parse((const char *)tr, &a->transition) != HK_OK)
		a->transition = HOOK_TRANSITION_LAUNCHING;
	const unsigned char *state = sqlite3_column_text(st, 12);
	if (hook_action_state_parse((const char *)state, &a->state) != HK_OK)
		a->state = HOOK_ACTION_FAILED; /* unknown text: never resume it blindly */
	sqlite3_int64 att = sqlite3_column_int64(st, 14);
	a->attempts = att < 0 ? 0u : att > (sqlite3_int64)UINT32_MAX ? UINT32_MAX : (unsigned)att;
	a->created_ms = sqlite3_column_int64(st, 15);
	a->updated_ms = sqlite3_column_int64(st, 16);
	a->deadline_ms = sqlite3_column_int64(st, 17);
	if (oom) {
		hook_action_cleanup(a);
		return HK_ERR_NOMEM;
	}
	return HK_OK;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

static void reset(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* ---------------------------------------------------------------- actions */

hk_err hook_store_action_insert(hook_store *s, const hook_action *a, int64_t *ret_id,
				bool *ret_created)
{
	if (!s || !a || !a->instance_id || !*a->instance_id || !a->token || !*a->token ||
	    !a->group || !a->asg || !a->hook || !a->source)
		return HK_ERR_INVALID;
	const char *event_id = a->event_id && *a->event_id ? a->event_id : NULL;
	bool own;
	hk_err err = txn_enter(s, &own);
	if (err)
		return err;
	int64_t now = hook_now_ms();
	sqlite3_stmt *st = s->st[ST_INSERT];
	bind_text(st, 1, a->instance_id);
	bind_text(st, 2, a->group);
	bind_text(st, 3, a->asg);
	bind_text(st, 4, a->hook);
	bind_text(st, 5, a->token);
	bind_text(st, 6, hook_transition_str(a->transition));
	bind_text(st, 7, a->origin ? a->origin : "");
	bind_text(st, 8, a->destination ? a->destination : "");
	bind_text(st, 9, a->metadata);
	bind_text(st, 10, event_id);
	bind_text(st, 11, a->source);
	sqlite3_bind_int64(st, 12, now);
	int rc = sqlite3_step(st);
	reset(st);
	int64_t id = 0;
	bool created = false;
	if (rc != SQLITE_DONE) {
		err = map_rc(rc);
	} else if (sqlite3_changes(s->db) == 1) {
		id = sqlite3_last_insert_rowid(s->db);
		created = true;
	} else {
		st = s->st[ST_FIND_DUP];
		bind_text(st, 1, a->token);
		bind_text(st, 2, a->instance_id);
		bind_text(st, 3, event_id);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			id = sqlite3_column_int64(st, 0);
		else
			err = rc == SQLITE_DONE ? HK_ERR_INTERNAL : map_rc(rc);
		reset(st);
	}
	err = txn_leave(s, own, err);
	if (err)
		return err;
	*ret_id = id;
	*ret_created = created;
	return HK_OK;
}

hk_err hook_store_action_get(hook_store *s, int64_t id, hook_action *ret)
{
	sqlite3_stmt *st = s->st[ST_GET];
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	hk_err err;
	if (rc == SQLITE_ROW)
		err = read_action(st, ret);
	else
		err = rc == SQLITE_DONE ? HK_ERR_NOT_FOUND : map_rc(rc);
	reset(st);
	return err;
}

hk_err hook_store_action_update(hook_store *s, int64_t id, const hook_action_update *u)
{
	if (!s || !u || (unsigned)u->state >= HOOK_ACTION__COUNT)
		return HK_ERR_INVALID;
	sqlite3_stmt *st = s->st[ST_UPDATE];
	bind_text(st, 1, state_names[u->state]);
	bind_text(st, 2, u->step);
	bind_text(st, 3, u->last_error);
	bind_text(st, 4, u->result);
	if (u->deadline_ms == HOOK_KEEP_DEADLINE)
		sqlite3_bind_null(st, 5);
	else
		sqlite3_bind_int64(st, 5, u->deadline_ms);
	sqlite3_bind_int(st, 6, u->add_attempt ? 1 : 0);
	sqlite3_bind_int64(st, 7, hook_now_ms());
	sqlite3_bind_int64(st, 8, id);
	int rc = sqlite3_step(st);
	reset(st);
	if (rc != SQLITE_DONE)
		return map_rc(rc);
	return sqlite3_changes(s->db) == 1 ? HK_OK : HK_ERR_NOT_FOUND;
}

/* Run a prepared SELECT and read its rows, each with `read` (which cleans
 * up after itself on failure), into a growing array of `elem`-sized
 * elements; on failure the rows read are freed with `free_rows`. */
typedef hk_err (*row_read_fn)(sqlite3_stmt *st, void *elem);
static hk_err collect_rows(sqlite3_stmt *st, size_t elem, row_read_fn read,
			   void (*free_rows)(void *v, size_t n), void **ret_v, size_t *ret_n)
{
	char *v = NULL;
	size_t n = 0, cap = 0;
	hk_err err = HK_OK;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			char *nv = realloc(v, ncap * elem);
			if (!nv) {
				err = HK_ERR_NOMEM;
				break;
			}
			v = nv;
			cap = ncap;
		}
		if ((err = read(st, v + n * elem)))
			break;
		n++;
	}
	if (err == HK_OK && rc != SQLITE_DONE)
		err = map_rc(rc);
	reset(st);
	if (err) {
		free_rows(v, n);
		return err;
	}
	*ret_v = v;
	*ret_n = n;
	return HK_OK;
}

static hk_err read_action_row(sqlite3_stmt *st, void *elem)
{
	return read_action(st, elem);
}

static void free_action_rows(void *v, size_t n)
{
	hook_actions_free(v, n);
}

static hk_err collect_actions(sqlite3_stmt *st, hook_action **ret_v, size_t *ret_n)
{
	void *v = NULL;
	hk_err err =
	    collect_rows(st, sizeof(hook_action), read_action_row, free_action_rows, &v, ret_n);
	if (!err)
		*ret_v = v;
	return err;
}

hk_err hook_store_action_list(hook_store *s, hook_action_state state, size_t limit,
			      hook_action **ret_v, size_t *ret_n)
{
	sqlite3_stmt *st;
	sqlite3_int64 lim = limit > (size_t)INT32_MAX ? INT32_MAX : (sqlite3_int64)limit;
	if ((unsigned)state < HOOK_ACTION__COUNT) {
		st = s->st[ST_LIST_STATE];
		bind_text(st, 1, state_names[state]);
		sqlite3_bind_int64(st, 2, lim);
	} else {
		st = s->st[ST_LIST_ALL];
		sqlite3_bind_int64(st, 1, lim);
	}
	return collect_actions(st, ret_v, ret_n);
}

hk_err hook_store_action_list_unfinished(hook_store *s, hook_action **ret_v, size_t *ret_n)
{
	return collect_actions(s->st[ST_LIST_UNFINISHED], ret_v, ret_n);
}

hk_err hook_store_action_list_instance(hook_store *s, const char *instance_id, size_t limit,
				       hook_action **ret_v, size_t *ret_n)
{
	if (!instance_id || !*instance_id)
		return HK_ERR_INVALID;
	sqlite3_stmt *st = s->st[ST_LIST_INSTANCE];
	sqlite3_int64 lim = limit > (size_t)INT32_MAX ? INT32_MAX : (sqlite3_int64)limit;
	bind_text(st, 1, instance_id);
	sqlite3_bind_int64(st, 2, lim);
	return collect_actions(st, ret_v, ret_n);
}

/* ------------------------------------------------------------------- ENIs */

static void hook_eni_rows_free_fields(hook_eni_row *r)
{
	free(r->network);
	free(r->subnet_id);
	free(r->ipv4);
	free(r->ipv6);
	free(r->client_token);
	free(r->eni_id);
	free(r->attachment_id);
	free(r->state);
}

void hook_eni_rows_free(hook_eni_row *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		hook_eni_rows_free_fields(&v[i]);
	free(v);
}

hk_err hook_store_eni_put(hook_store *s, const hook_eni_row *r)
{
	if (!s || !r || !r->network || !*r->network)
		return HK_ERR_INVALID;
	sqlite3_stmt *st = s->st[ST_ENI_PUT];
	sqlite3_bind_int64(st, 1, r->action_id);
	bind_text(st, 2, r->network);
	sqlite3_bind_int64(st, 3, r->device_index);
	sqlite3_bind_int64(st, 4, r->network_card_index);
	bind_text(st, 5, r->subnet_id ? r->subnet_id : "");
	bind_text(st, 6, r->ipv4 ? r->ipv4 : "");
	bind_text(st, 7, r->ipv6 ? r->ipv6 : "");
	bind_text(st, 8, r->client_token ? r->client_token : "");
	bind_text(st, 9, r->eni_id ? r->eni_id : "");
	bind_text(st, 10, r->attachment_id ? r->attachment_id : "");
	bind_text(st, 11, r->state ? r->state : "");
	sqlite3_bind_int64(st, 12, hook_now_ms());
	int rc = sqlite3_step(st);
	reset(st);
	if (rc == SQLITE_DONE)
		return HK_OK;
	/* The only constraint that can fail here is the action's foreign key. */
	return (rc & 0xff) == SQLITE_CONSTRAINT ? HK_ERR_NOT_FOUND : map_rc(rc);
}

static hk_err read_eni_row(sqlite3_stmt *st, void *elem)
{
	hook_eni_row *r = elem;
	bool oom = false;
	memset(r, 0, sizeof(*r));
	r->action_id = sqlite3_column_int64(st, 0);
	char **const text[] = {
	    [1] = &r->network,	    [4] = &r->subnet_id, [5] = &r->ipv4,	  [6] = &r->ipv6,
	    [7] = &r->client_token, [8] = &r->eni_id,	 [9] = &r->attachment_id, [10] = &r->state};
	col_dups(st, text, HK_ARRAY_LEN(text), &oom);
	r->device_index = (unsigned)sqlite3_column_int(st, 2);
	r->network_card_index = (unsigned)sqlite3_column_int(st, 3);
	r->updated_ms = sqlite3_column_int64(st, 11);
	if (oom) {
		hook_eni_rows_free_fields(r);
		return HK_ERR_NOMEM;
	}
	return HK_OK;
}

static void free_eni_rows(void *v, size_t n)
{
	hook_eni_rows_free(v, n);
}

static hk_err collect_enis(sqlite3_stmt *st, hook_eni_row **ret_v, size_t *ret_n)
{
	void *v = NULL;
	hk_err err = collect_rows(st, sizeof(hook_eni_row), read_eni_row, free_eni_rows, &v, ret_n);
	if (!err)
		*ret_v = v;
	return err;
}

hk_err hook_store_eni_list(hook_store *s, int64_t action_id, hook_eni_row **ret_v, size_t *ret_n)
{
	sqlite3_stmt *st = s->st[ST_ENI_LIST];
	sqlite3_bind_int64(st, 1, action_id);
	return collect_enis(st, ret_v, ret_n);
}

hk_err hook_store_eni_list_held(hook_store *s, const char *subnet_id, hook_eni_row **ret_v,
				size_t *ret_n)
{
	if (!subnet_id)
		return HK_ERR_INVALID;
	sqlite3_stmt *st = s->st[ST_ENI_HELD];
	bind_text(st, 1, subnet_id);
	return collect_enis(st, ret_v, ret_n);
}

hk_err hook_store_check_writable(hook_store *s)
{
	if (!s)
		return HK_ERR_INVALID;
	if (!sqlite3_get_autocommit(s->db))
		return HK_ERR_STATE;
	char now[32];
	snprintf(now, sizeof(now), "%lld", (long long)hook_now_ms());
	sqlite3_stmt *st = s->st[ST_PROBE];
	bind_text(st, 1, now);
	int rc = sqlite3_step(st);
	reset(st);
	return rc == SQLITE_DONE ? HK_OK : map_rc(rc);
}

const char *hook_store_source_str(hook_event_source src)
{
	return hk_name_of(source_names, HK_ARRAY_LEN(source_names), src, "unknown");
}

/* What became of an action, beyond its stored state: a DONE launch that was
 * ABANDONed did not succeed, and one whose lifecycle action was over before
 * it could complete (completed elsewhere or timed out) expired. */
const char *hook_action_outcome(const hook_action *a)
{
	if (!hook_action_state_final(a->state))
		return "in_flight";
	if (a->state == HOOK_ACTION_FAILED)
		return "failed";
	/* this daemon's completion found nothing to complete: done elsewhere,
	 * or the hook timed out */
	if (a->last_error &&
	    (!strncmp(a->last_error, "no active lifecycle action", 26) ||
	     !strncmp(a->last_error, "the lifecycle action is no longer active", 40)))
		return "expired";
	if (a->result && strcmp(a->result, "CONTINUE") == 0)
		return "succeeded";
	if (a->result && strcmp(a->result, "ABANDON") == 0)
		return "abandoned";
	return "expired"; /* done without a completion of its own */
}

/* hook/store: the durable state store (SQLite, WAL): actions and their
 * ENI rows, schema migrations, the writability probe. Uses core/ only. */
#ifndef HOOK_STORE_H
#define HOOK_STORE_H

#include "hook_core.h"

/* ======================================================================
 * Durable state (state.c)
 * ====================================================================== */

typedef struct hook_store hook_store;

#define HOOK_STORE_FILE		  "multus-hookd.db"
#define HOOK_STORE_LOCK_FILE	  "multus-hookd.lock"
#define HOOK_STORE_SCHEMA_VERSION 3

typedef enum hook_action_state {
	HOOK_ACTION_PENDING = 0, /* committed, not yet picked up by the engine */
	HOOK_ACTION_RUNNING,	 /* the engine is working on it (see step) */
	HOOK_ACTION_CLEANUP,	 /* failed: undoing what it created */
	HOOK_ACTION_COMPLETING,	 /* CompleteLifecycleAction under way */
	HOOK_ACTION_DONE,	 /* completed (result says how) */
	HOOK_ACTION_FAILED,	 /* gave up; could not complete (see last_error) */
	HOOK_ACTION__COUNT
} hook_action_state;

const char *hook_action_state_str(hook_action_state s);
HK_MUST_CHECK hk_err hook_action_state_parse(const char *s, hook_action_state *ret);
/* DONE and FAILED are final; everything else is resumed at start. */
bool hook_action_state_final(hook_action_state s);

/* One lifecycle action. As an input (insert), strings are borrowed and may be
 * NULL where noted; as an output (get/list) every string is heap-allocated
 * (never NULL: "" when empty) and released by hook_action_cleanup. */
typedef struct hook_action {
	int64_t id;
	char *instance_id;
	char *group; /* node group name */
	char *asg;   /* AutoScalingGroupName */
	char *hook;  /* LifecycleHookName */
	char *token; /* LifecycleActionToken */
	hook_transition transition;
	char *origin;	   /* may be NULL on input */
	char *destination; /* may be NULL on input */
	char *metadata;	   /* may be NULL on input */
	char *event_id;	   /* may be NULL on input (then only token+instance dedupe) */
	char *source;	   /* "eventbridge" | "notification" | "sns" */
	hook_action_state state;
	char *step; /* engine-defined step name ("" = not started) */
	unsigned attempts;
	int64_t created_ms; /* unix epoch milliseconds */
	int64_t updated_ms;
	int64_t deadline_ms; /* 0 = none yet */
	char *last_error;
	char *result; /* "CONTINUE" | "ABANDON" | "" */
} hook_action;

void hook_action_cleanup(hook_action *a);
/* What became of an action, beyond its stored state: "in_flight", "failed",
 * "succeeded" (done, CONTINUE), "abandoned" (done, ABANDON) or "expired" (done
 * without a completion of its own: completed elsewhere, or its hook timed
 * out). Reads state, result and last_error only. */
const char *hook_action_outcome(const hook_action *a);
void hook_actions_free(hook_action *v, size_t n);

/* Changes to an action. Fields left at their HOOK_KEEP value are not touched. */
#define HOOK_KEEP_DEADLINE INT64_MIN
typedef struct hook_action_update {
	hook_action_state state;
	const char *step;	/* NULL = keep */
	const char *last_error; /* NULL = keep, "" = clear */
	const char *result;	/* NULL = keep */
	int64_t deadline_ms;	/* HOOK_KEEP_DEADLINE = keep */
	bool add_attempt;	/* attempts += 1 */
} hook_action_update;

/* An ENI an action plans or made. As input strings are borrowed (NULL = "").
 * As output all are heap strings, released by hook_eni_rows_free. */
typedef struct hook_eni_row {
	int64_t action_id;
	char *network; /* network name; (action_id, network) is the key */
	unsigned device_index;
	unsigned network_card_index;
	char *subnet_id;
	char *ipv4;	    /* chosen private IPv4 ("" = DHCP / not chosen) */
	char *ipv6;	    /* chosen IPv6 address(es), comma separated */
	char *client_token; /* CreateNetworkInterface ClientToken */
	char *eni_id;
	char *attachment_id;
	char *state; /* engine-defined ("planned", "created", "attached", "deleted" ...) */
	int64_t updated_ms;
} hook_eni_row;

void hook_eni_rows_free(hook_eni_row *v, size_t n);

/* Open (creating if needed) the store in `dir`: the directory is created 0700
 * when missing; the database file is 0600; an exclusive lock file keeps a
 * second daemon off the same directory (HK_ERR_EXISTS). Migrations run in
 * order inside one transaction; a database newer than this binary is refused
 * (HK_ERR_STATE). HK_ERR_IO for file problems. `ei` says which. */
HK_MUST_CHECK hk_err hook_store_open(const char *dir, hook_store **ret, hk_errinfo *ei);
/* Finalizes statements, checkpoints and closes. NULL-safe. */
void hook_store_close(hook_store *s);

/* The schema version of the open database (PRAGMA user_version). */
int hook_store_schema_version(hook_store *s);

/* Explicit transactions for batching several changes (the functions below
 * join an open transaction instead of starting their own). Not nestable:
 * HK_ERR_STATE when one is already open. */
HK_MUST_CHECK hk_err hook_store_begin(hook_store *s);
HK_MUST_CHECK hk_err hook_store_commit(hook_store *s);
void hook_store_rollback(hook_store *s);

/* Insert a new action in state PENDING unless one exists with the same
 * (token, instance_id) or the same event_id. *ret_id is the new or existing
 * id; *ret_created says which. `a` is borrowed; its id/state/step/attempts/
 * timestamps are ignored (created_ms = updated_ms = now). Errors: HK_ERR_INVALID
 * (a required string missing), HK_ERR_TRANSIENT (database busy), HK_ERR_IO. */
HK_MUST_CHECK hk_err hook_store_action_insert(hook_store *s, const hook_action *a, int64_t *ret_id,
					      bool *ret_created);

/* HK_ERR_NOT_FOUND when no such action. */
HK_MUST_CHECK hk_err hook_store_action_get(hook_store *s, int64_t id, hook_action *ret);

/* Apply `u` (and updated_ms = now). HK_ERR_NOT_FOUND when no such action. */
HK_MUST_CHECK hk_err hook_store_action_update(hook_store *s, int64_t id,
					      const hook_action_update *u);

/* Actions in `state` (or every state when state == HOOK_ACTION__COUNT), newest
 * first, at most `limit`. *ret_v may be NULL when *ret_n is 0. */
HK_MUST_CHECK hk_err hook_store_action_list(hook_store *s, hook_action_state state, size_t limit,
					    hook_action **ret_v, size_t *ret_n);

/* Every action not in a final state, oldest first (to resume at start). */
HK_MUST_CHECK hk_err hook_store_action_list_unfinished(hook_store *s, hook_action **ret_v,
						       size_t *ret_n);

/* The actions of one instance, newest first, at most `limit` (any state).
 * HK_ERR_INVALID for an empty instance id. */
HK_MUST_CHECK hk_err hook_store_action_list_instance(hook_store *s, const char *instance_id,
						     size_t limit, hook_action **ret_v,
						     size_t *ret_n);

/* Insert or replace the ENI row (row->action_id, row->network). */
HK_MUST_CHECK hk_err hook_store_eni_put(hook_store *s, const hook_eni_row *row);

/* ENI rows of one action, in device-index order. */
HK_MUST_CHECK hk_err hook_store_eni_list(hook_store *s, int64_t action_id, hook_eni_row **ret_v,
					 size_t *ret_n);

/* ENI rows in `subnet_id` whose action is unfinished: the addresses this
 * daemon holds back from the allocator. */
HK_MUST_CHECK hk_err hook_store_eni_list_held(hook_store *s, const char *subnet_id,
					      hook_eni_row **ret_v, size_t *ret_n);

/* A write transaction that changes nothing durable but needs the write lock
 * and a journal write (readiness probe). HK_OK when writable now. */
HK_MUST_CHECK hk_err hook_store_check_writable(hook_store *s);

/* "eventbridge" | "notification" | "sns" (hook_action.source). */
const char *hook_store_source_str(hook_event_source src);

#endif

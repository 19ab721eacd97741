/* The state store: insert-if-new and the duplicate rules, updates, listings,
 * ENI rows, transactions, the single-daemon lock, migrations from an older
 * schema, refusing a newer one, and durability across an unclean exit. */
#include "hk_test.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "hook_store.h"

static char dir[64];

static void mkdir_tmp(void)
{
	snprintf(dir, sizeof(dir), "/tmp/hookstXXXXXX");
	assert_non_null(mkdtemp(dir));
}

static void rm_tmp(void)
{
	const char *names[] = {HOOK_STORE_FILE, HOOK_STORE_FILE "-wal", HOOK_STORE_FILE "-shm",
			       HOOK_STORE_LOCK_FILE};
	char p[256];
	for (size_t i = 0; i < HK_ARRAY_LEN(names); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		unlink(p);
	}
	rmdir(dir);
}

static char *dbpath(void)
{
	static char p[256];
	snprintf(p, sizeof(p), "%s/%s", dir, HOOK_STORE_FILE);
	return p;
}

static hook_store *open_ok(void)
{
	hook_store *s = NULL;
	hk_errinfo ei = {0};
	hk_err err = hook_store_open(dir, &s, &ei);
	if (err)
		print_message("open: %s: %s\n", hk_err_str(err), ei.text);
	assert_int_equal(err, HK_OK);
	return s;
}

static hook_action new_action(char *token, char *instance, char *event_id)
{
	static char grp[] = "g", asg[] = "asg-a", hook[] = "launch", src[] = "eventbridge",
		    md[] = "{\"m\":1}", origin[] = "EC2", dest[] = "AutoScalingGroup";
	hook_action a = {.instance_id = instance,
			 .group = grp,
			 .asg = asg,
			 .hook = hook,
			 .token = token,
			 .transition = HOOK_TRANSITION_LAUNCHING,
			 .origin = origin,
			 .destination = dest,
			 .metadata = md,
			 .event_id = event_id,
			 .source = src};
	return a;
}

static int64_t insert(hook_store *s, const char *token, const char *instance, const char *eid,
		      bool want_created)
{
	char t[64], i[32], e[64];
	snprintf(t, sizeof(t), "%s", token);
	snprintf(i, sizeof(i), "%s", instance);
	snprintf(e, sizeof(e), "%s", eid ? eid : "");
	hook_action a = new_action(t, i, eid ? e : NULL);
	int64_t id = 0;
	bool created = !want_created;
	assert_int_equal(hook_store_action_insert(s, &a, &id, &created), HK_OK);
	assert_int_equal(created, want_created);
	assert_true(id > 0);
	return id;
}

static size_t count_all(hook_store *s)
{
	hook_action *v = NULL;
	size_t n = 0;
	assert_int_equal(hook_store_action_list(s, HOOK_ACTION__COUNT, 1000, &v, &n), HK_OK);
	hook_actions_free(v, n);
	return n;
}

static void test_open_creates_private_files(void **state)
{
	(void)state;
	mkdir_tmp();
	char sub[128];
	snprintf(sub, sizeof(sub), "%s/state", dir);
	hook_store *s = NULL;
	hk_errinfo ei = {0};
	assert_int_equal(hook_store_open(sub, &s, &ei), HK_OK);
	assert_int_equal(hook_store_schema_version(s), HOOK_STORE_SCHEMA_VERSION);
	struct stat st;
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", sub, HOOK_STORE_FILE);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	insert(s, "tok-1", "i-0123456789abcdef0", NULL, true);
	snprintf(p, sizeof(p), "%s/%s-wal", sub, HOOK_STORE_FILE);
	assert_int_equal(stat(p, &st), 0); /* WAL mode */
	assert_int_equal(st.st_mode & 0777, 0600);
	hook_store_close(s);
	const char *names[] = {HOOK_STORE_FILE, HOOK_STORE_FILE "-wal", HOOK_STORE_FILE "-shm",
			       HOOK_STORE_LOCK_FILE};
	for (size_t i = 0; i < HK_ARRAY_LEN(names); i++) {
		snprintf(p, sizeof(p), "%s/%s", sub, names[i]);
		unlink(p);
	}
	rmdir(sub);
	rm_tmp();
}

static void test_insert_get_roundtrip(void **state)
{
	(void)state;
	mkdir_tmp();
	hook_store *s = open_ok();
	int64_t id = insert(s, "tok-1", "i-0123456789abcdef0", "eventbridge:e1", true);
	hook_action a;
	assert_int_equal(hook_store_action_get(s, id, &a), HK_OK);
	assert_int_equal(a.id, id);
	assert_string_equal(a.instance_id, "i-0123456789abcdef0");
	assert_string_equal(a.token, "tok-1");
	assert_string_equal(a.group, "g");
	assert_string_equal(a.asg, "asg-a");
	assert_string_equal(a.hook, "launch");
	assert_string_equal(a.event_id, "eventbridge:e1");
	assert_string_equal(a.metadata, "{\"m\":1}");
	assert_string_equal(a.origin, "EC2");
	assert_int_equal(a.transition, HOOK_TRANSITION_LAUNCHING);
	assert_int_equal(a.state, HOOK_ACTION_PENDING);
	assert_string_equal(a.step, "");
	assert_int_equal(a.attempts, 0);
	assert_true(a.created_ms > 0);
	assert_int_equal(a.created_ms, a.updated_ms);
	hook_action_cleanup(&a);
	assert_int_equal(hook_store_action_get(s, id + 100, &a), HK_ERR_NOT_FOUND);
	hook_store_close(s);
	rm_tmp();
}

static void test_duplicates(void **state)
{
	(void)state;
	mkdir_tmp();
	hook_store *s = open_ok();
	int64_t id = insert(s, "tok-1", "i-0123456789abcdef0", "eventbridge:e1", true);
	/* same token and instance, new event id (EventBridge redelivery after SNS) */
	assert_int_equal(insert(s, "tok-1", "i-0123456789abcdef0", "sns:m1", false), id);
	/* same event id, whatever else */
	assert_int_equal(insert(s, "tok-2", "i-0fffffffffffffff0", "eventbridge:e1", false), id);
	/* no event id at all: token and instance decide */
	assert_int_equal(insert(s, "tok-1", "i-0123456789abcdef0", NULL, false), id);
	/* same token, another instance: a different action */
	int64_t id2 = insert(s, "tok-1", "i-0aaaaaaaaaaaaaaa0", NULL, true);
	assert_true(id2 != id);
	int64_t id3 = insert(s, "tok-3", "i-0aaaaaaaaaaaaaaa0", NULL, true);
	assert_true(id3 != id2);
	assert_int_equal(count_all(s), 3);
	hook_store_close(s);
	rm_tmp();
}

static void test_insert_requires_fields(void **state)
{
	(void)state;
	mkdir_tmp();
	hook_store *s = open_ok();
	char tok[] = "t", empty[] = "";
	hook_action a = new_action(tok, empty, NULL);
	int64_t id = 0;
	bool c = false;
	assert_int_equal(hook_store_action_insert(s, &a, &id, &c), HK_ERR_INVALID);
	assert_int_equal(count_all(s), 0);
	hook_store_close(s);
	rm_tmp();
}

static void test_update_keeps_and_changes(void **state)
{
	(void)state;
	mkdir_tmp();
	hook_store *s = open_ok();
	int64_t id = insert(s, "tok-1", "i-0123456789abcdef0", NULL, true);
	hook_action_update u = {.state = HOOK_ACTION_RUNNING,
				.step = "create_enis",
				.last_error = "InvalidIPAddress.InUse",
				.deadline_ms = 12345,
				.add_attempt = true};
	assert_int_equal(hook_store_action_update(s, id, &u), HK_OK);
	hook_action_update keep = {.state = HOOK_ACTION_DONE,
				   .result = "CONTINUE",
				   .deadline_ms = HOOK_KEEP_DEADLINE,
				   .add_attempt = true};
	assert_int_equal(hook_store_action_update(s, id, &keep), HK_OK);
	hook_action a;
	assert_int_equal(hook_store_action_get(s, id, &a), HK_OK);
	assert_int_equal(a.state, HOOK_ACTION_DONE);
	assert_string_equal(a.step, "create_enis");
	assert_string_equal(a.last_error, "InvalidIPAddress.InUse");
	assert_string_equal(a.result, "CONTINUE");
	assert_int_equal(a.deadline_ms, 12345);
	assert_int_equal(a.attempts, 2);
	hook_action_cleanup(&a);
	hook_action_update clear = {
	    .state = HOOK_ACTION_DONE, .last_error = "", .deadline_ms = HOOK_KEEP_DEADLINE};
	assert_int_equal(hook_store_action_update(s, id, &clear), HK_OK);
	assert_int_equal(hook_store_action_get(s, id, &a), HK_OK);
	assert_string_equal(a.last_error, "");
	hook_action_cleanup(&a);
	assert_int_equal(hook_store_action_update(s, id + 9, &clear), HK_ERR_NOT_FOUND);
	hook_action_update bad = {.state = HOOK_ACTION__COUNT};
	assert_int_equal(hook_store_action_update(s, id, &bad), HK_ERR_INVALID);
	hook_store_close(s);
	rm_tmp();
}

static void set_state(hook_store *s, int64_t id, hook_action_state st)
{
	hook_action_update u = {.state = st, .deadline_ms = HOOK_KEEP_DEADLINE};
	assert_int_equal(hook_store_action_update(s, id, &u), HK_OK);
}

static void test_lists(void **state)
{
	(void)state;
	mkdir_tmp();
	hook_store *s = open_ok();
	int64_t a = insert(s, "t1", "i-00000000000000001", NULL, true);
	int64_t b = insert(s, "t2", "i-00000000000000002", NULL, true);
	int64_t c = insert(s, "t3", "i-00000000000000003", NULL, true);
	int64_t d = insert(s, "t4", "i-00000000000000004", NULL, true);
	set_state(s, a, HOOK_ACTION_DONE);
	set_state(s, b, HOOK_ACTION_RUNNING);
	set_state(s, d, HOOK_ACTION_FAILED);
	hook_action *v = NULL;
	size_t n = 0;
	assert_int_equal(hook_store_action_list_unfinished(s, &v, &n), HK_OK);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].id, b); /* oldest first */
	assert_int_equal(v[1].id, c);
	hook_actions_free(v, n);
	assert_int_equal(hook_store_action_list(s, HOOK_ACTION_DONE, 10, &v, &n), HK_OK);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].id, a);
	hook_actions_free(v, n);
	assert_int_equal(hook_store_action_list(s, HOOK_ACTION__COUNT, 2, &v, &n), HK_OK);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].id, d); /* newest first */
	hook_actions_free(v, n);
	assert_int_equal(hook_store_action_list(s, HOOK_ACTION_CLEANUP, 10, &v, &n), HK_OK);
	assert_int_equal(n, 0);
	hook_actions_free(v, n);
	hook_store_close(s);
	rm_tmp();
}

static void test_eni_rows(void **state)
{
	(void)state;
	mkdir_tmp();
	hook_store *s = open_ok();
	int64_t a = insert(s, "t1", "i-00000000000000001", NULL, true);
	int64_t b = insert(s, "t2", "i-00000000000000002", NULL, true);
	char sig[] = "sig", media[] = "media", sub1[] = "subnet-00000001",
	     sub2[] = "subnet-00000002", ip1[] = "10.0.1.4", ip2[] = "10.0.1.5",
	     planned[] = "planned", created[] = "created", eni[] = "eni-0123", tok[] = "ct-1";
	hook_eni_row r = {.action_id = a,
			  .network = media,
			  .device_index = 2,
			  .subnet_id = sub2,
			  .state = planned};
	assert_int_equal(hook_store_eni_put(s, &r), HK_OK);
	r = (hook_eni_row){.action_id = a,
			   .network = sig,
			   .device_index = 1,
			   .subnet_id = sub1,
			   .ipv4 = ip1,
			   .client_token = tok,
			   .state = planned};
	assert_int_equal(hook_store_eni_put(s, &r), HK_OK);
	/* upsert: the same (action, network) row moves on */
	r.eni_id = eni;
	r.state = created;
	assert_int_equal(hook_store_eni_put(s, &r), HK_OK);
	r = (hook_eni_row){.action_id = b,
			   .network = sig,
			   .device_index = 1,
			   .subnet_id = sub1,
			   .ipv4 = ip2,
			   .state = planned};
	assert_int_equal(hook_store_eni_put(s, &r), HK_OK);

	hook_eni_row *v = NULL;
	size_t n = 0;
	assert_int_equal(hook_store_eni_list(s, a, &v, &n), HK_OK);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].network, "sig"); /* device-index order */
	assert_string_equal(v[0].eni_id, "eni-0123");
	assert_string_equal(v[0].state, "created");
	assert_string_equal(v[0].client_token, "ct-1");
	assert_string_equal(v[1].network, "media");
	assert_string_equal(v[1].ipv4, "");
	hook_eni_rows_free(v, n);

	/* held addresses: unfinished actions only */
	assert_int_equal(hook_store_eni_list_held(s, "subnet-00000001", &v, &n), HK_OK);
	assert_int_equal(n, 2);
	hook_eni_rows_free(v, n);
	set_state(s, b, HOOK_ACTION_DONE);
	assert_int_equal(hook_store_eni_list_held(s, "subnet-00000001", &v, &n), HK_OK);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].ipv4, "10.0.1.4");
	hook_eni_rows_free(v, n);

	r.action_id = 999;
	assert_int_equal(hook_store_eni_put(s, &r), HK_ERR_NOT_FOUND);
	hook_store_close(s);
	rm_tmp();
}

static void test_transactions(void **state)
{
	(void)state;
	mkdir_tmp();
	hook_store *s = open_ok();
	assert_int_equal(hook_store_begin(s), HK_OK);
	assert_int_equal(hook_store_begin(s), HK_ERR_STATE);
	insert(s, "t1", "i-00000000000000001", NULL, true);
	hook_store_rollback(s);
	assert_int_equal(count_all(s), 0);
	assert_int_equal(hook_store_begin(s), HK_OK);
	int64_t id = insert(s, "t1", "i-00000000000000001", NULL, true);
	set_state(s, id, HOOK_ACTION_RUNNING);
	assert_int_equal(hook_store_commit(s), HK_OK);
	assert_int_equal(hook_store_commit(s), HK_ERR_STATE);
	assert_int_equal(count_all(s), 1);
	hook_store_close(s);
	rm_tmp();
}

static void test_second_daemon_refused(void **state)
{
	(void)state;
	mkdir_tmp();
	hook_store *s = open_ok();
	hook_store *s2 = NULL;
	hk_errinfo ei = {0};
	assert_int_equal(hook_store_open(dir, &s2, &ei), HK_ERR_EXISTS);
	assert_null(s2);
	assert_non_null(strstr(ei.text, "another multus-hookd"));
	hook_store_close(s);
	s2 = open_ok(); /* the lock went with the first close */
	hook_store_close(s2);
	rm_tmp();
}

/* Schema version 1 exactly as it shipped: frozen here on purpose. */
static const char *const schema_v1 =
    "CREATE TABLE actions ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, instance_id TEXT NOT NULL, node_group TEXT NOT NULL,"
    " asg TEXT NOT NULL, hook TEXT NOT NULL, token TEXT NOT NULL, transition TEXT NOT NULL,"
    " origin TEXT NOT NULL DEFAULT '', destination TEXT NOT NULL DEFAULT '', metadata TEXT,"
    " event_id TEXT, source TEXT NOT NULL, state TEXT NOT NULL, step TEXT NOT NULL DEFAULT '',"
    " attempts INTEGER NOT NULL DEFAULT 0, created_ms INTEGER NOT NULL,"
    " updated_ms INTEGER NOT NULL, deadline_ms INTEGER NOT NULL DEFAULT 0,"
    " last_error TEXT NOT NULL DEFAULT '', UNIQUE (token, instance_id));"
    "CREATE UNIQUE INDEX actions_event_id ON actions(event_id) WHERE event_id IS NOT NULL;"
    "INSERT INTO actions (instance_id, node_group, asg, hook, token, transition, source, state,"
    " step, created_ms, updated_ms) VALUES ('i-0123456789abcdef0', 'g', 'asg', 'h', 'old-tok',"
    " 'autoscaling:EC2_INSTANCE_LAUNCHING', 'eventbridge', 'running', 'attach', 1, 2);"
    "PRAGMA user_version = 1;";

static void make_raw_db(const char *sql)
{
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open(dbpath(), &db), SQLITE_OK);
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK)
		print_message("sqlite: %s\n", msg ? msg : "?");
	sqlite3_free(msg);
	assert_int_equal(rc, SQLITE_OK);
	sqlite3_close(db);
	chmod(dbpath(), 0600);
}

static void test_migrate_from_v1(void **state)
{
	(void)state;
	mkdir_tmp();
	make_raw_db(schema_v1);
	hook_store *s = open_ok();
	assert_int_equal(hook_store_schema_version(s), HOOK_STORE_SCHEMA_VERSION);
	hook_action *v = NULL;
	size_t n = 0;
	assert_int_equal(hook_store_action_list_unfinished(s, &v, &n), HK_OK);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].token, "old-tok");
	assert_string_equal(v[0].step, "attach");
	assert_int_equal(v[0].state, HOOK_ACTION_RUNNING);
	assert_string_equal(v[0].result, ""); /* column added by migration 2 */
	/* the v2 tables work on the migrated database */
	char net[] = "sig";
	hook_eni_row r = {.action_id = v[0].id, .network = net, .device_index = 1};
	assert_int_equal(hook_store_eni_put(s, &r), HK_OK);
	hook_actions_free(v, n);
	hook_store_close(s);
	rm_tmp();
}

static void test_newer_schema_refused(void **state)
{
	(void)state;
	mkdir_tmp();
	make_raw_db("PRAGMA user_version = 99;");
	hook_store *s = NULL;
	hk_errinfo ei = {0};
	assert_int_equal(hook_store_open(dir, &s, &ei), HK_ERR_STATE);
	assert_null(s);
	assert_non_null(strstr(ei.text, "newer"));
	rm_tmp();
}

static void test_reopen_after_unclean_exit(void **state)
{
	(void)state;
	mkdir_tmp();
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* The child commits, then dies without closing anything. */
		hook_store *s = NULL;
		hk_errinfo ei;
		char t[] = "crash-tok", i[] = "i-0123456789abcdef0", e[] = "eventbridge:crash";
		hook_action a = new_action(t, i, e);
		int64_t id;
		bool c;
		if (hook_store_open(dir, &s, &ei) != HK_OK ||
		    hook_store_action_insert(s, &a, &id, &c) != HK_OK)
			_exit(3);
		hook_action_update u = {.state = HOOK_ACTION_RUNNING,
					.step = "create",
					.deadline_ms = HOOK_KEEP_DEADLINE};
		if (hook_store_action_update(s, id, &u) != HK_OK)
			_exit(4);
		raise(SIGKILL);
		_exit(5);
	}
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	hook_store *s = open_ok(); /* the dead child's flock is gone with it */
	hook_action *v = NULL;
	size_t n = 0;
	assert_int_equal(hook_store_action_list_unfinished(s, &v, &n), HK_OK);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].token, "crash-tok");
	assert_string_equal(v[0].step, "create");
	hook_actions_free(v, n);
	/* the duplicate rule still holds after recovery */
	insert(s, "crash-tok", "i-0123456789abcdef0", NULL, false);
	hook_store_close(s);
	rm_tmp();
}

static void test_busy_database(void **state)
{
	(void)state;
	mkdir_tmp();
	hook_store *s = open_ok();
	assert_int_equal(hook_store_check_writable(s), HK_OK);
	/* Another connection holds the write lock (an operator's sqlite3 shell). */
	sqlite3 *other = NULL;
	assert_int_equal(sqlite3_open(dbpath(), &other), SQLITE_OK);
	assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(hook_store_check_writable(s), HK_ERR_TRANSIENT);
	char t[] = "t", i[] = "i-00000000000000001";
	hook_action a = new_action(t, i, NULL);
	int64_t id = 0;
	bool c = false;
	assert_int_equal(hook_store_action_insert(s, &a, &id, &c), HK_ERR_TRANSIENT);
	assert_int_equal(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(other);
	assert_int_equal(hook_store_check_writable(s), HK_OK);
	assert_int_equal(hook_store_action_insert(s, &a, &id, &c), HK_OK);
	assert_true(c);
	hook_store_close(s);
	rm_tmp();
}

static void test_state_names(void **state)
{
	(void)state;
	for (int i = 0; i < HOOK_ACTION__COUNT; i++) {
		hook_action_state st;
		assert_int_equal(
		    hook_action_state_parse(hook_action_state_str((hook_action_state)i), &st),
		    HK_OK);
		assert_int_equal(st, i);
	}
	hook_action_state st;
	assert_int_equal(hook_action_state_parse("bogus", &st), HK_ERR_INVALID);
	assert_true(hook_action_state_final(HOOK_ACTION_DONE));
	assert_true(hook_action_state_final(HOOK_ACTION_FAILED));
	assert_false(hook_action_state_final(HOOK_ACTION_CLEANUP));
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_open_creates_private_files),
    cmocka_unit_test(test_insert_get_roundtrip),
    cmocka_unit_test(test_duplicates),
    cmocka_unit_test(test_insert_requires_fields),
    cmocka_unit_test(test_update_keeps_and_changes),
    cmocka_unit_test(test_lists),
    cmocka_unit_test(test_eni_rows),
    cmocka_unit_test(test_transactions),
    cmocka_unit_test(test_second_daemon_refused),
    cmocka_unit_test(test_migrate_from_v1),
    cmocka_unit_test(test_newer_schema_refused),
    cmocka_unit_test(test_reopen_after_unclean_exit),
    cmocka_unit_test(test_busy_database),
    cmocka_unit_test(test_state_names),
};

HK_TEST_MAIN(tests)

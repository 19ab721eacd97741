/* Intrusive doubly linked lists (the Linux kernel / systemd shape): embed an
 * hk_list in the element, keep an hk_list head, and recover the element with
 * HK_CONTAINER_OF. All operations are O(1); a detached node points at itself
 * so hk_list_linked() tells whether it is on a list. Header-only. */
#ifndef HK_LIST_H
#define HK_LIST_H

#include <stdbool.h>
#include <stddef.h>

typedef struct hk_list {
	struct hk_list *next, *prev;
} hk_list;

#define HK_CONTAINER_OF(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

#define HK_LIST_INIT(name)                                                                         \
	{                                                                                          \
		&(name), &(name)                                                                   \
	}

static inline void hk_list_init(hk_list *l)
{
	l->next = l->prev = l;
}

static inline bool hk_list_empty(const hk_list *head)
{
	return head->next == head;
}

/* Whether the node is on some list (a node must be hk_list_init()ed once). */
static inline bool hk_list_linked(const hk_list *n)
{
	return n->next != n;
}

static inline void hk_list_insert_between(hk_list *n, hk_list *prev, hk_list *next)
{
	n->prev = prev;
	n->next = next;
	prev->next = n;
	next->prev = n;
}

/* Append (FIFO order). */
static inline void hk_list_push_back(hk_list *head, hk_list *n)
{
	hk_list_insert_between(n, head->prev, head);
}

static inline void hk_list_push_front(hk_list *head, hk_list *n)
{
	hk_list_insert_between(n, head, head->next);
}

/* Unlink; safe on a detached node. */
static inline void hk_list_del(hk_list *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->next = n->prev = n;
}

/* The first node, or NULL when empty. */
static inline hk_list *hk_list_first(const hk_list *head)
{
	return hk_list_empty(head) ? NULL : head->next;
}

/* Move every node of `from` to the end of `to` (from is empty afterwards). */
static inline void hk_list_splice(hk_list *to, hk_list *from)
{
	if (hk_list_empty(from))
		return;
	hk_list *first = from->next, *last = from->prev;
	first->prev = to->prev;
	to->prev->next = first;
	last->next = to;
	to->prev = last;
	hk_list_init(from);
}

/* for (n over head) where the body may delete n. */
#define HK_LIST_FOREACH_SAFE(n, tmp, head)                                                         \
	for ((n) = (head)->next, (tmp) = (n)->next; (n) != (head); (n) = (tmp), (tmp) = (n)->next)

#endif

#include "daemon/initq.h"

#include <stdlib.h>
#include <string.h>

int initq_init(struct initq *q, unsigned cap)
{
	q->head = q->n = 0;
	q->cap = cap;
	q->slots = calloc(cap, sizeof(*q->slots));
	return q->slots ? 0 : -1;
}

void initq_free(struct initq *q)
{
	free(q->slots);
	q->slots = NULL;
	q->head = q->n = 0;
}

struct initq_slot *initq_push(struct initq *q, const struct udp_rx *rx)
{
	if (q->n == q->cap || rx->len > sizeof(q->slots[0].data))
		return NULL;
	struct initq_slot *sl = &q->slots[(q->head + q->n) % q->cap];
	q->n++;
	sl->rx = *rx;
	sl->rx.data = sl->data;
	memcpy(sl->data, rx->data, rx->len);
	sl->validated = sl->counted = sl->follows = false;
	return sl;
}

struct initq_slot *initq_head(struct initq *q)
{
	return q->n ? &q->slots[q->head] : NULL;
}

void initq_pop(struct initq *q)
{
	if (!q->n)
		return;
	q->head = (q->head + 1) % q->cap;
	q->n--;
}

bool initq_has(const struct initq *q, const ngtcp2_cid *dcid)
{
	for (unsigned i = 0; i < q->n; i++) {
		const ngtcp2_cid *c = &q->slots[(q->head + i) % q->cap].dcid;
		if (c->datalen == dcid->datalen && !memcmp(c->data, dcid->data, c->datalen))
			return true;
	}
	return false;
}

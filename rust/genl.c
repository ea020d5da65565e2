// SPDX-License-Identifier: GPL-2.0
/*
 * The vproc generic netlink family: attribute parsing and reply building
 * for the commands of netlink/vproc.yaml, whose policies and ops table are
 * generated into netlink/vproc_nl_gen.c. Every request has been validated
 * against its policy (types, lengths, ranges; extack on failure) before a
 * handler here runs; the handlers check required attributes, call the
 * Rust side (struct vproc_nl_ops) and turn its answer into a reply.
 *
 * Dumps keep a cursor (the next PID, node or sequence number) in
 * cb->args[0] and ask Rust for a batch from there on each call, so no
 * state lives between calls and a dump never sees a record twice.
 *
 * Events: vproc_shim_genl_event() may run in atomic context, and during
 * unload; it checks, under RCU, that the family is still registered.
 */

#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <net/genetlink.h>
#include <net/netlink.h>

#include "../netlink/vproc_nl_gen.h"
#include "shim.h"

/* Records asked of Rust per dump call. */
#define VPROC_NL_BATCH 32

static const struct vproc_nl_ops *nl_ops;
static void *nl_data;
static bool nl_live;	/* RCU: events may be multicast */

/* True (and the extack says which) if @attr is missing. */
#define MISSING(info, attr, name) ({					\
	bool __miss = GENL_REQ_ATTR_CHECK(info, attr);			\
	if (__miss)							\
		NL_SET_ERR_MSG(info->extack, "missing attribute: " name);	\
	__miss;								\
})

/*
 * Callers compute @err before calling: as a call's arguments, the
 * callback and the read of its @msg would be unsequenced.
 */
static int nl_fail(struct genl_info *info, int err, const char *msg)
{
	/* NL_SET_ERR_MSG wants a literal; @msg is static (Rust's c"..."). */
	if (err < 0 && msg && info->extack)
		info->extack->_msg = msg;
	return err;
}

static int put_proc(struct sk_buff *skb, const struct vproc_nl_proc *p)
{
	char comm[sizeof(p->comm) + 1];

	memcpy(comm, p->comm, sizeof(p->comm));
	comm[sizeof(p->comm)] = 0;
	if (nla_put_u32(skb, VPROC_A_PROC_PID, p->pid) ||
	    nla_put_u32(skb, VPROC_A_PROC_NODE, p->node) ||
	    nla_put_u32(skb, VPROC_A_PROC_HOME, p->home) ||
	    nla_put_u8(skb, VPROC_A_PROC_LOADLEVEL, p->loadlevel) ||
	    nla_put_u8(skb, VPROC_A_PROC_LOCK, p->lock) ||
	    nla_put_u32(skb, VPROC_A_PROC_NMIGS, p->nmigs) ||
	    nla_put_u32(skb, VPROC_A_PROC_UID, p->uid) ||
	    nla_put_u8(skb, VPROC_A_PROC_STATE, p->state) ||
	    nla_put_u32(skb, VPROC_A_PROC_PPID, p->ppid) ||
	    nla_put_u64_64bit(skb, VPROC_A_PROC_CPU_MS, p->cpu_ms,
			      VPROC_A_PROC_PAD) ||
	    nla_put_u64_64bit(skb, VPROC_A_PROC_RSS_KIB, p->rss_kib,
			      VPROC_A_PROC_PAD) ||
	    nla_put_string(skb, VPROC_A_PROC_COMM, comm))
		return -EMSGSIZE;
	return 0;
}

static int put_node(struct sk_buff *skb, const struct vproc_nl_node *n)
{
	char state[sizeof(n->state) + 1];

	memcpy(state, n->state, sizeof(n->state));
	state[sizeof(n->state)] = 0;
	if (nla_put_u32(skb, VPROC_A_NODE_ID, n->id) ||
	    nla_put_u8(skb, VPROC_A_NODE_SELF, n->is_self) ||
	    nla_put_string(skb, VPROC_A_NODE_STATE, state))
		return -EMSGSIZE;
	if (n->heard && nla_put_u32(skb, VPROC_A_NODE_HEARD_MS, n->heard_ms))
		return -EMSGSIZE;
	if (!n->has_load)
		return 0;
	if (nla_put_u32(skb, VPROC_A_NODE_LOADAVG, n->loadavg) ||
	    nla_put_u32(skb, VPROC_A_NODE_RUNNABLE, n->runnable) ||
	    nla_put_u32(skb, VPROC_A_NODE_BUSY, n->busy) ||
	    nla_put_u32(skb, VPROC_A_NODE_CPUS, n->cpus) ||
	    nla_put_u32(skb, VPROC_A_NODE_SPEED, n->speed) ||
	    nla_put_u32(skb, VPROC_A_NODE_VPROCS, n->vprocs) ||
	    nla_put_u64_64bit(skb, VPROC_A_NODE_FREE_KIB, n->free_kib,
			      VPROC_A_NODE_PAD) ||
	    nla_put_u64_64bit(skb, VPROC_A_NODE_TOTAL_KIB, n->total_kib,
			      VPROC_A_NODE_PAD) ||
	    nla_put_u8(skb, VPROC_A_NODE_LOADLEVEL, n->loadlevel))
		return -EMSGSIZE;
	return 0;
}

static int put_event(struct sk_buff *skb, const struct vproc_nl_event *e)
{
	char kind[sizeof(e->kind) + 1], detail[sizeof(e->detail) + 1];

	memcpy(kind, e->kind, sizeof(e->kind));
	kind[sizeof(e->kind)] = 0;
	memcpy(detail, e->detail, sizeof(e->detail));
	detail[sizeof(e->detail)] = 0;
	if (nla_put_u64_64bit(skb, VPROC_A_EVENT_SEQ, e->seq,
			      VPROC_A_EVENT_PAD) ||
	    nla_put_u64_64bit(skb, VPROC_A_EVENT_TIME_MS, e->time_ms,
			      VPROC_A_EVENT_PAD) ||
	    nla_put_string(skb, VPROC_A_EVENT_KIND, kind) ||
	    nla_put_u32(skb, VPROC_A_EVENT_NODE, e->node) ||
	    nla_put_string(skb, VPROC_A_EVENT_DETAIL, detail))
		return -EMSGSIZE;
	return 0;
}

int vproc_nl_where_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct vproc_nl_proc p = {};
	const char *msg = NULL;
	struct sk_buff *rsp;
	void *hdr;
	int err;

	if (MISSING(info, VPROC_A_PROC_PID, "pid"))
		return -EINVAL;
	err = nl_ops->where(nl_data, nla_get_u32(info->attrs[VPROC_A_PROC_PID]),
			    &p, &msg);
	if (err < 0)
		return nl_fail(info, err, msg);
	rsp = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!rsp)
		return -ENOMEM;
	hdr = genlmsg_iput(rsp, info);
	if (!hdr || put_proc(rsp, &p)) {
		nlmsg_free(rsp);
		return -EMSGSIZE;
	}
	genlmsg_end(rsp, hdr);
	return genlmsg_reply(rsp, info);
}

int vproc_nl_migrate_doit(struct sk_buff *skb, struct genl_info *info)
{
	u32 to = VPROC_MIGRATE_TO_NODE, node = 0;
	const char *msg = NULL;
	int err;

	if (MISSING(info, VPROC_A_PROC_PID, "pid"))
		return -EINVAL;
	if (info->attrs[VPROC_A_PROC_TO])
		to = nla_get_u32(info->attrs[VPROC_A_PROC_TO]);
	if (to == VPROC_MIGRATE_TO_NODE) {
		if (MISSING(info, VPROC_A_PROC_NODE, "node"))
			return -EINVAL;
		node = nla_get_u32(info->attrs[VPROC_A_PROC_NODE]);
	}
	err = nl_ops->migrate(nl_data, nla_get_u32(info->attrs[VPROC_A_PROC_PID]),
			      to, node, &msg);
	return nl_fail(info, err, msg);
}

static int set_switch(struct genl_info *info, int lock, int attr)
{
	const char *msg = NULL;
	int err;

	if (MISSING(info, VPROC_A_PROC_PID, "pid") ||
	    MISSING(info, attr, "the switch's value"))
		return -EINVAL;
	err = nl_ops->set_switch(nl_data,
				 nla_get_u32(info->attrs[VPROC_A_PROC_PID]), lock,
				 nla_get_u8(info->attrs[attr]), &msg);
	return nl_fail(info, err, msg);
}

int vproc_nl_set_loadlevel_doit(struct sk_buff *skb, struct genl_info *info)
{
	return set_switch(info, 0, VPROC_A_PROC_LOADLEVEL);
}

int vproc_nl_set_lock_doit(struct sk_buff *skb, struct genl_info *info)
{
	return set_switch(info, 1, VPROC_A_PROC_LOCK);
}

int vproc_nl_set_node_loadlevel_doit(struct sk_buff *skb,
				     struct genl_info *info)
{
	const char *msg = NULL;
	int err;

	if (MISSING(info, VPROC_A_NODE_LOADLEVEL, "loadlevel"))
		return -EINVAL;
	err = nl_ops->set_node_loadlevel(nl_data,
			nla_get_u8(info->attrs[VPROC_A_NODE_LOADLEVEL]), &msg);
	return nl_fail(info, err, msg);
}

/*
 * One dump call: a batch from the cursor, as many records as fit. Returns
 * skb->len (0 ends the dump) or a negative errno.
 */
#define VPROC_DUMP(name, type, cmd, fetch, put, key)			\
int vproc_nl_##name##_dumpit(struct sk_buff *skb,			\
			     struct netlink_callback *cb)		\
{									\
	type *buf;							\
	int n, i, err = 0;						\
									\
	buf = kmalloc_array(VPROC_NL_BATCH, sizeof(*buf), GFP_KERNEL);	\
	if (!buf)							\
		return -ENOMEM;						\
	n = fetch;							\
	if (n < 0) {							\
		kfree(buf);						\
		return n;						\
	}								\
	for (i = 0; i < n && i < VPROC_NL_BATCH; i++) {			\
		void *hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, \
					cb->nlh->nlmsg_seq,		\
					&vproc_nl_family, NLM_F_MULTI,	\
					cmd);				\
		if (!hdr) {						\
			err = -EMSGSIZE;				\
			break;						\
		}							\
		if (put(skb, &buf[i])) {				\
			genlmsg_cancel(skb, hdr);			\
			err = -EMSGSIZE;				\
			break;						\
		}							\
		genlmsg_end(skb, hdr);					\
		cb->args[0] = (key) + 1;				\
	}								\
	kfree(buf);							\
	/* Not even one record fits an empty skb: cannot happen. */	\
	if (err && !skb->len)						\
		return err;						\
	return skb->len;						\
}

VPROC_DUMP(procs, struct vproc_nl_proc, VPROC_CMD_PROCS,
	   nl_ops->procs(nl_data, (u32)cb->args[0], buf, VPROC_NL_BATCH),
	   put_proc, buf[i].pid)
VPROC_DUMP(nodes, struct vproc_nl_node, VPROC_CMD_NODES,
	   nl_ops->nodes(nl_data, (u32)cb->args[0], buf, VPROC_NL_BATCH),
	   put_node, buf[i].id)
VPROC_DUMP(events, struct vproc_nl_event, VPROC_CMD_EVENTS,
	   nl_ops->events(nl_data, (u64)cb->args[0], buf, VPROC_NL_BATCH),
	   put_event, buf[i].seq)

int vproc_shim_genl_register(const struct vproc_nl_ops *ops, void *data)
{
	int err;

	nl_ops = ops;
	nl_data = data;
	err = genl_register_family(&vproc_nl_family);
	if (err)
		return err;
	WRITE_ONCE(nl_live, true);
	return 0;
}

void vproc_shim_genl_unregister(void)
{
	WRITE_ONCE(nl_live, false);
	synchronize_rcu();	/* no event is being multicast any more */
	genl_unregister_family(&vproc_nl_family);
}

void vproc_shim_genl_event(const struct vproc_nl_event *ev)
{
	struct sk_buff *skb;
	void *hdr;

	rcu_read_lock();
	if (!READ_ONCE(nl_live) ||
	    !genl_has_listeners(&vproc_nl_family, &init_net,
				VPROC_NLGRP_EVENTS))
		goto out;
	skb = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_ATOMIC);
	if (!skb)
		goto out;
	hdr = genlmsg_put(skb, 0, 0, &vproc_nl_family, 0, VPROC_CMD_EVENT);
	if (!hdr || put_event(skb, ev)) {
		nlmsg_free(skb);
		goto out;
	}
	genlmsg_end(skb, hdr);
	genlmsg_multicast(&vproc_nl_family, skb, 0, VPROC_NLGRP_EVENTS,
			  GFP_ATOMIC);
out:
	rcu_read_unlock();
}

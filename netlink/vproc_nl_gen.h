/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/* Do not edit directly, auto-generated from: */
/*	netlink/specs/vproc.yaml */
/* YNL-GEN kernel header */
/* To regenerate run: tools/net/ynl/ynl-regen.sh */

#ifndef _LINUX_VPROC_GEN_H
#define _LINUX_VPROC_GEN_H

#include <net/netlink.h>
#include <net/genetlink.h>

#include <uapi/vproc_nl.h>

int vproc_nl_where_doit(struct sk_buff *skb, struct genl_info *info);
int vproc_nl_migrate_doit(struct sk_buff *skb, struct genl_info *info);
int vproc_nl_set_loadlevel_doit(struct sk_buff *skb, struct genl_info *info);
int vproc_nl_set_lock_doit(struct sk_buff *skb, struct genl_info *info);
int vproc_nl_procs_dumpit(struct sk_buff *skb, struct netlink_callback *cb);
int vproc_nl_nodes_dumpit(struct sk_buff *skb, struct netlink_callback *cb);
int vproc_nl_set_node_loadlevel_doit(struct sk_buff *skb,
				     struct genl_info *info);
int vproc_nl_events_dumpit(struct sk_buff *skb, struct netlink_callback *cb);

enum {
	VPROC_NLGRP_EVENTS,
};

extern struct genl_family vproc_nl_family;

#endif /* _LINUX_VPROC_GEN_H */

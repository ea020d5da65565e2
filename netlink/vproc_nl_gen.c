// SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause)
/* Do not edit directly, auto-generated from: */
/*	netlink/specs/vproc.yaml */
/* YNL-GEN kernel source */
/* To regenerate run: tools/net/ynl/ynl-regen.sh */

#include <net/netlink.h>
#include <net/genetlink.h>

#include "vproc_nl_gen.h"

#include <uapi/vproc_nl.h>

/* VPROC_CMD_WHERE - do */
static const struct nla_policy vproc_where_nl_policy[VPROC_A_PROC_PID + 1] = {
	[VPROC_A_PROC_PID] = NLA_POLICY_MIN(NLA_U32, 1),
};

/* VPROC_CMD_MIGRATE - do */
static const struct nla_policy vproc_migrate_nl_policy[VPROC_A_PROC_TO + 1] = {
	[VPROC_A_PROC_PID] = NLA_POLICY_MIN(NLA_U32, 1),
	[VPROC_A_PROC_TO] = NLA_POLICY_MAX(NLA_U32, 2),
	[VPROC_A_PROC_NODE] = NLA_POLICY_RANGE(NLA_U32, 1, VPROC_MAX_NODE),
};

/* VPROC_CMD_SET_LOADLEVEL - do */
static const struct nla_policy vproc_set_loadlevel_nl_policy[VPROC_A_PROC_LOADLEVEL + 1] = {
	[VPROC_A_PROC_PID] = NLA_POLICY_MIN(NLA_U32, 1),
	[VPROC_A_PROC_LOADLEVEL] = NLA_POLICY_MAX(NLA_U8, 1),
};

/* VPROC_CMD_SET_LOCK - do */
static const struct nla_policy vproc_set_lock_nl_policy[VPROC_A_PROC_LOCK + 1] = {
	[VPROC_A_PROC_PID] = NLA_POLICY_MIN(NLA_U32, 1),
	[VPROC_A_PROC_LOCK] = NLA_POLICY_MAX(NLA_U8, 1),
};

/* VPROC_CMD_SET_NODE_LOADLEVEL - do */
static const struct nla_policy vproc_set_node_loadlevel_nl_policy[VPROC_A_NODE_LOADLEVEL + 1] = {
	[VPROC_A_NODE_LOADLEVEL] = NLA_POLICY_MAX(NLA_U8, 1),
};

/* Ops table for vproc */
static const struct genl_split_ops vproc_nl_ops[] = {
	{
		.cmd		= VPROC_CMD_WHERE,
		.doit		= vproc_nl_where_doit,
		.policy		= vproc_where_nl_policy,
		.maxattr	= VPROC_A_PROC_PID,
		.flags		= GENL_CMD_CAP_DO,
	},
	{
		.cmd		= VPROC_CMD_MIGRATE,
		.doit		= vproc_nl_migrate_doit,
		.policy		= vproc_migrate_nl_policy,
		.maxattr	= VPROC_A_PROC_TO,
		.flags		= GENL_CMD_CAP_DO,
	},
	{
		.cmd		= VPROC_CMD_SET_LOADLEVEL,
		.doit		= vproc_nl_set_loadlevel_doit,
		.policy		= vproc_set_loadlevel_nl_policy,
		.maxattr	= VPROC_A_PROC_LOADLEVEL,
		.flags		= GENL_CMD_CAP_DO,
	},
	{
		.cmd		= VPROC_CMD_SET_LOCK,
		.doit		= vproc_nl_set_lock_doit,
		.policy		= vproc_set_lock_nl_policy,
		.maxattr	= VPROC_A_PROC_LOCK,
		.flags		= GENL_CMD_CAP_DO,
	},
	{
		.cmd	= VPROC_CMD_PROCS,
		.dumpit	= vproc_nl_procs_dumpit,
		.flags	= GENL_CMD_CAP_DUMP,
	},
	{
		.cmd	= VPROC_CMD_NODES,
		.dumpit	= vproc_nl_nodes_dumpit,
		.flags	= GENL_CMD_CAP_DUMP,
	},
	{
		.cmd		= VPROC_CMD_SET_NODE_LOADLEVEL,
		.doit		= vproc_nl_set_node_loadlevel_doit,
		.policy		= vproc_set_node_loadlevel_nl_policy,
		.maxattr	= VPROC_A_NODE_LOADLEVEL,
		.flags		= GENL_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd	= VPROC_CMD_EVENTS,
		.dumpit	= vproc_nl_events_dumpit,
		.flags	= GENL_CMD_CAP_DUMP,
	},
};

static const struct genl_multicast_group vproc_nl_mcgrps[] = {
	[VPROC_NLGRP_EVENTS] = { "events", },
};

struct genl_family vproc_nl_family __ro_after_init = {
	.name		= VPROC_FAMILY_NAME,
	.version	= VPROC_FAMILY_VERSION,
	.netnsok	= true,
	.parallel_ops	= true,
	.module		= THIS_MODULE,
	.split_ops	= vproc_nl_ops,
	.n_split_ops	= ARRAY_SIZE(vproc_nl_ops),
	.mcgrps		= vproc_nl_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(vproc_nl_mcgrps),
};

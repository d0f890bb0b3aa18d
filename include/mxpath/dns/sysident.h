/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sysident.h - build the identity of this host from the policy and the system
 *
 * Configured self names and addresses, plus, when self.addresses = "auto",
 * the system host name and every interface address (getifaddrs).
 */
#ifndef MXPATH_SYSIDENT_H
#define MXPATH_SYSIDENT_H

#include "mxpath/engine/identity.h"
#include "mxpath/engine/policy.h"

struct identity *sysident_build(const struct policy *policy);

#endif

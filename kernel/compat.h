/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Every difference between the kernels dm-remap builds against (Debian 6.1
 * and 6.12) lives here, and only here.
 */
#ifndef DM_REMAP_COMPAT_H
#define DM_REMAP_COMPAT_H

#include <linux/version.h>

#endif /* DM_REMAP_COMPAT_H */

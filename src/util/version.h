/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The program version: `git describe` when built from a checkout, the
 * project version otherwise (cmake/version.cmake writes its definition at
 * every build).  Static storage; never freed.
 */
#ifndef VHU_UTIL_VERSION_H
#define VHU_UTIL_VERSION_H

extern const char vhu_version[];

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* Guest memory as the memory and ring commands show it. */
#ifndef VHU_RENDER_MEM_H
#define VHU_RENDER_MEM_H

#include "proto/mem.h"
#include "proto/wire.h"

/* The "regions" list: regions[@first, @first + @n) with their guest
 * physical and user addresses, size and mmap offset. */
void vhu_render_regions(const struct vhu_region *regions, unsigned first, unsigned n);

/* The members of a SET_VRING_ADDR payload. */
void vhu_render_vring_addr(const struct vhost_vring_addr *addr);

#endif

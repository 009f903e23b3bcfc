#include <stdio.h>

#include "devices/virtio_net.h"

int virtio_net_create(struct vm *vm, const struct net_config *nc,
		      unsigned int index)
{
	fprintf(stderr, "mmvm: --net tap=%s: virtio-net not implemented yet\n",
		nc->tap);
	return -1;
}

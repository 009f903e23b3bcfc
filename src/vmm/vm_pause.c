/* Pause and resume (vm_pause.h). */
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>

#include "vmm/vm_pause.h"

void vm_pause_init(struct vm *vm)
{
	pthread_mutex_init(&vm->pause.lock, NULL);
	pthread_cond_init(&vm->pause.cond, NULL);
}

void vcpu_pause_point(struct vcpu *v)
{
	struct vm *vm = v->vm;

	if (!__atomic_load_n(&vm->pause.requested, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&vm->pause.lock);
	vm->pause.parked++;
	pthread_cond_broadcast(&vm->pause.cond);
	while (vm->pause.requested &&
	       !__atomic_load_n(&v->stop, __ATOMIC_ACQUIRE))
		pthread_cond_wait(&vm->pause.cond, &vm->pause.lock);
	vm->pause.parked--;
	/* The kick's immediate_exit is spent; vcpu_stop() sets it again. */
	if (!__atomic_load_n(&v->stop, __ATOMIC_ACQUIRE))
		v->run->immediate_exit = 0;
	pthread_mutex_unlock(&vm->pause.lock);
}

void vcpu_pause_wake(struct vm *vm)
{
	pthread_mutex_lock(&vm->pause.lock);
	pthread_cond_broadcast(&vm->pause.cond);
	pthread_mutex_unlock(&vm->pause.lock);
}

static void kick_all(struct vm *vm)
{
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = vm->vcpus[i];

		if (!v->started)
			continue;
		v->run->immediate_exit = 1;
		pthread_kill(v->thread, SIGUSR1);
	}
}

int vm_pause(struct vm *vm, char *err, size_t errlen)
{
	unsigned int running = 0;
	int ret = 0;

	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		running += vm->vcpus[i]->started;
	pthread_mutex_lock(&vm->pause.lock);
	__atomic_store_n(&vm->pause.requested, true, __ATOMIC_RELEASE);
	/* A kick can land just before a vCPU enters KVM_RUN: immediate_exit
	 * covers that, and the kicks repeat every 10 ms for a second. */
	for (int tries = 0; vm->pause.parked < running; tries++) {
		struct timespec ts;

		if (tries == 100) {
			snprintf(err, errlen, "pause: %u of %u vCPUs stopped within a second",
				 vm->pause.parked, running);
			ret = -1;
			break;
		}
		kick_all(vm);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 10 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&vm->pause.cond, &vm->pause.lock, &ts);
	}
	pthread_mutex_unlock(&vm->pause.lock);
	return ret;
}

void vm_resume(struct vm *vm)
{
	pthread_mutex_lock(&vm->pause.lock);
	__atomic_store_n(&vm->pause.requested, false, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&vm->pause.cond);
	pthread_mutex_unlock(&vm->pause.lock);
}

bool vm_paused(struct vm *vm)
{
	return __atomic_load_n(&vm->pause.requested, __ATOMIC_ACQUIRE);
}

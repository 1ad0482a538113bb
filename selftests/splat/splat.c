// SPDX-License-Identifier: GPL-2.0
/*
 * splat: a deliberately broken module that proves the QEMU harness
 * (scripts/vmtest) catches and classifies kernel splats.
 *
 * NEVER load it outside a vmtest guest: every trigger damages the kernel.
 *
 * A trigger fires at load time with the "trigger" parameter
 *	insmod splat.ko trigger=warn
 * or later by writing its name to /sys/kernel/debug/splat/trigger.
 *
 *	warn		WARN_ON() (class 2)
 *	leak		allocate an object from a private kmem_cache and never
 *			free it; the cache is destroyed at module exit, so
 *			rmmod makes SLUB report "Objects remaining" (class 3)
 *	kmemleak	kmalloc() 128 bytes and drop the only pointer: the next
 *			kmemleak scan reports an "unreferenced object" (class 3,
 *			on a kernel with kmemleak)
 *	abba		take two mutexes in A-B then B-A order, one path after
 *			the other: lockdep reports a possible circular locking
 *			dependency without a real deadlock (class 4)
 *	softlockup	spin with preemption disabled for "seconds" seconds,
 *			longer than the soft lockup threshold (class 5)
 *	hung		a kthread waits in D state on a completion that is
 *			never completed, past hung_task_timeout_secs (class 5)
 *	null		write through a NULL pointer (class 6)
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/completion.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/preempt.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

static char *trigger = "";
module_param(trigger, charp, 0444);
MODULE_PARM_DESC(trigger, "fire at load: warn, leak, kmemleak, null, softlockup, hung, abba");

static unsigned int seconds = 120;
module_param(seconds, uint, 0644);
MODULE_PARM_DESC(seconds, "how long softlockup spins (default 120)");

static DEFINE_MUTEX(splat_lock_a);
static DEFINE_MUTEX(splat_lock_b);
static DEFINE_MUTEX(splat_state_lock);	/* protects the two below */
static struct kmem_cache *splat_cache;
static void *splat_leaked;

static DECLARE_COMPLETION(splat_never);
static struct task_struct *splat_hung_task;

static struct dentry *splat_dir;

/* Hidden from the compiler so that it cannot prove the pointer is NULL. */
static int *splat_null_ptr;

static int fire_warn(void)
{
	WARN_ON(true);
	return 0;
}

static int fire_leak(void)
{
	int ret = 0;

	mutex_lock(&splat_state_lock);
	if (!splat_cache) {
		/* SLAB_STORE_USER: never merged; the report shows the allocator. */
		splat_cache = kmem_cache_create("splat_leak", 64, 0,
						SLAB_STORE_USER, NULL);
		if (!splat_cache) {
			ret = -ENOMEM;
			goto out;
		}
	}
	splat_leaked = kmem_cache_alloc(splat_cache, GFP_KERNEL);
	if (!splat_leaked)
		ret = -ENOMEM;
	else
		pr_info("leaked one object of cache splat_leak; rmmod reports it\n");
out:
	mutex_unlock(&splat_state_lock);
	return ret;
}

static int fire_kmemleak(void)
{
	void *p = kmalloc(128, GFP_KERNEL);

	if (!p)
		return -ENOMEM;
	/* No copy of the pointer is kept anywhere: kmemleak must find it. */
	pr_info("leaked 128 bytes of kmalloc(); a kmemleak scan reports them\n");
	return 0;
}

static int fire_null(void)
{
	pr_info("writing through a NULL pointer\n");
	WRITE_ONCE(*READ_ONCE(splat_null_ptr), 1);
	return 0;
}

static int fire_softlockup(void)
{
	unsigned long end = jiffies + (unsigned long)seconds * HZ;

	pr_info("spinning with preemption disabled for %u s\n", seconds);
	preempt_disable();
	while (time_before(jiffies, end))
		mdelay(10);
	preempt_enable();
	pr_info("spin over: no soft lockup detected?\n");
	return 0;
}

static int splat_hung_thread(void *unused)
{
	/* TASK_UNINTERRUPTIBLE until module exit: the hung task detector fires. */
	wait_for_completion(&splat_never);
	while (!kthread_should_stop())
		schedule_timeout_interruptible(HZ);
	return 0;
}

static int fire_hung(void)
{
	struct task_struct *t;
	int ret = 0;

	mutex_lock(&splat_state_lock);
	if (splat_hung_task) {
		ret = -EBUSY;
		goto out;
	}
	t = kthread_run(splat_hung_thread, NULL, "splat_hung");
	if (IS_ERR(t)) {
		ret = PTR_ERR(t);
		goto out;
	}
	get_task_struct(t);
	splat_hung_task = t;
	pr_info("kthread splat_hung (pid %d) blocks in D state\n", t->pid);
out:
	mutex_unlock(&splat_state_lock);
	return ret;
}

static int fire_abba(void)
{
	/* Path 1: A then B. */
	mutex_lock(&splat_lock_a);
	mutex_lock(&splat_lock_b);
	mutex_unlock(&splat_lock_b);
	mutex_unlock(&splat_lock_a);

	/* Path 2: B then A. Lockdep sees the inversion here. */
	mutex_lock(&splat_lock_b);
	mutex_lock(&splat_lock_a);
	mutex_unlock(&splat_lock_a);
	mutex_unlock(&splat_lock_b);
	pr_info("took locks A-B then B-A\n");
	return 0;
}

static const struct {
	const char *name;
	int (*fire)(void);
} splat_triggers[] = {
	{ "warn", fire_warn },
	{ "leak", fire_leak },
	{ "kmemleak", fire_kmemleak },
	{ "null", fire_null },
	{ "softlockup", fire_softlockup },
	{ "hung", fire_hung },
	{ "abba", fire_abba },
};

static int splat_fire(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(splat_triggers); i++) {
		if (sysfs_streq(name, splat_triggers[i].name)) {
			pr_info("trigger %s\n", splat_triggers[i].name);
			return splat_triggers[i].fire();
		}
	}
	pr_warn("unknown trigger '%s' (warn, leak, kmemleak, null, softlockup, hung, abba)\n",
		name);
	return -EINVAL;
}

static ssize_t splat_trigger_write(struct file *file, const char __user *ubuf,
				   size_t count, loff_t *ppos)
{
	char buf[32];
	int ret;

	if (count == 0 || count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';
	ret = splat_fire(buf);
	return ret ? ret : count;
}

static const struct file_operations splat_trigger_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = splat_trigger_write,
	.llseek = noop_llseek,
};

static int __init splat_init(void)
{
	int ret;

	pr_warn("deliberately broken test module loaded: for vmtest guests only\n");
	splat_dir = debugfs_create_dir("splat", NULL);
	debugfs_create_file("trigger", 0200, splat_dir, NULL, &splat_trigger_fops);

	if (trigger[0]) {
		ret = splat_fire(trigger);
		if (ret) {
			debugfs_remove_recursive(splat_dir);
			kmem_cache_destroy(splat_cache);
			return ret;
		}
	}
	return 0;
}

static void __exit splat_exit(void)
{
	debugfs_remove_recursive(splat_dir);
	if (splat_hung_task) {
		complete_all(&splat_never);
		kthread_stop(splat_hung_task);
		put_task_struct(splat_hung_task);
	}
	/* The leaked object is still allocated: SLUB reports it here. */
	kmem_cache_destroy(splat_cache);
}

module_init(splat_init);
module_exit(splat_exit);

MODULE_DESCRIPTION("Deliberately broken module proving the vmtest splat detector");
MODULE_AUTHOR("dm-remap developers");
MODULE_LICENSE("GPL");

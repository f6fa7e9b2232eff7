//! This process's id, asked of the kernel once and forgotten at every fork, instead of a getpid() system call on
//! every push (the connection's fork check and the id sequence each made one).
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Once;

/// 0: not known (never asked, or forgotten in a forked child).
static PID: AtomicU32 = AtomicU32::new(0);
static HOOK: Once = Once::new();
/// Whether the fork hook is in place; without it the id is asked for on every call, as before.
static HOOKED: AtomicBool = AtomicBool::new(false);

extern "C" fn forget_in_child() {
    PID.store(0, Ordering::Relaxed);
}

/// The id of the calling process.
pub fn id() -> u32 {
    let known = PID.load(Ordering::Relaxed);
    if known != 0 {
        return known;
    }
    HOOK.call_once(|| {
        // glibc registers the hook under this library's handle and removes it when the library is unloaded
        // (dlclose at a server's graceful restart), so a later fork never calls into unmapped code.
        // SAFETY: forget_in_child is async-signal-safe (one atomic store), as a child handler must be.
        let hooked = unsafe { libc::pthread_atfork(None, None, Some(forget_in_child)) } == 0;
        HOOKED.store(hooked, Ordering::Relaxed);
    });
    let pid = std::process::id();
    if HOOKED.load(Ordering::Relaxed) {
        PID.store(pid, Ordering::Relaxed);
    }
    pid
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_forked_child_knows_its_own_id() {
        let parent = super::id();
        assert_eq!(parent, std::process::id());
        // SAFETY: the child only reads its id and exits; nothing in it touches a lock another thread may hold.
        let child = unsafe { libc::fork() };
        assert!(child >= 0);
        if child == 0 {
            let ok = super::id() == std::process::id() && super::id() != parent;
            unsafe { libc::_exit(if ok { 0 } else { 1 }) };
        }
        let mut status = 0;
        unsafe { libc::waitpid(child, &mut status, 0) };
        assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "the child saw its parent's id");
        assert_eq!(super::id(), parent);
    }
}

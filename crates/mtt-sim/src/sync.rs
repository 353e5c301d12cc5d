//! The one way the simulator takes its locks. Every module uses it, so it depends on none.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks a mutex, carrying on if a panicking thread poisoned it: the data behind these locks
/// stays consistent between statements, so a poisoned lock is still safe to use.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

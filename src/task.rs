//! Spawned tasks that end with their owner.

use tokio::task::JoinHandle;

/// Aborts the task when dropped, so a task spawned for one run of a connector (the meter, the
/// emitter's producing stage) ends with that run, whichever way it returns.
pub struct AbortOnDrop<T>(pub JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

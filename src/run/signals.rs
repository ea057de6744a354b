//! SIGINT, SIGTERM and SIGHUP end the session cleanly: they only set a flag that the
//! transport loop polls (the module is always stopped, drained and unloaded).

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

/// Set when one of the stop signals arrived since [`StopFlag::install`].
///
/// The handlers are installed once per process and stay (signal-hook cannot restore the
/// previous disposition); after a run they only set a flag that the next run resets.
pub struct StopFlag {
    flag: Arc<AtomicBool>,
}

static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
static INSTALL: Mutex<bool> = Mutex::new(false);

impl StopFlag {
    pub fn install() -> io::Result<StopFlag> {
        let flag = Arc::clone(FLAG.get_or_init(|| Arc::new(AtomicBool::new(false))));
        let mut installed = INSTALL.lock().unwrap_or_else(|p| p.into_inner());
        if !*installed {
            for sig in [SIGINT, SIGTERM, SIGHUP] {
                signal_hook::flag::register(sig, Arc::clone(&flag))?;
            }
            *installed = true;
        }
        flag.store(false, Ordering::SeqCst);
        Ok(StopFlag { flag })
    }

    pub fn is_set(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }
}

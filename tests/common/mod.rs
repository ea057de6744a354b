//! Helpers shared by the integration tests that run the `rstapc` binary.
#![allow(dead_code)]
pub mod lockcheck;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const RSTAPC: &str = env!("CARGO_BIN_EXE_rstapc");

/// The lines of a guest's kernel log that match rstap::vm::KLOG_PROBLEMS (the one
/// definition of what a VM run's log must not contain).
pub fn klog_problems(log: &str) -> Vec<&str> {
    let re = regex_lite::Regex::new(rstap::vm::KLOG_PROBLEMS).expect("a valid regex");
    log.lines().filter(|l| re.is_match(l)).collect()
}

pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// An isolated run of rstapc: the current directory and the temporary directory (`TMPDIR`)
/// are private to the test, so what it leaves behind can be checked without racing other
/// rstapc runs on the machine.
pub struct Sandbox {
    pub cwd: tempfile::TempDir,
    pub tmp: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        Sandbox {
            cwd: tempfile::Builder::new()
                .prefix("test-rstapc-cwd")
                .tempdir()
                .unwrap(),
            tmp: tempfile::Builder::new()
                .prefix("test-rstapc-tmp")
                .tempdir()
                .unwrap(),
        }
    }

    pub fn command(&self) -> Command {
        let mut cmd = Command::new(RSTAPC);
        // A cache of its own, so no test sees modules another run left behind.
        cmd.current_dir(self.cwd.path())
            .env("TMPDIR", self.tmp.path())
            .env("XDG_CACHE_HOME", self.tmp.path().join("cache"))
            .env_remove("RUST_BACKTRACE");
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Run {
        Run::from(
            self.command()
                .args(args)
                .output()
                .expect("cannot run rstapc"),
        )
    }

    /// The `rstap*` directories rstapc created under its `TMPDIR`.
    pub fn work_dirs(&self) -> BTreeSet<PathBuf> {
        std::fs::read_dir(self.tmp.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("rstap")
            })
            .collect()
    }
}

/// What one rstapc run printed, and how it ended.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Run {
    /// Asserts the exit code and that nothing panicked; shows the whole run otherwise.
    pub fn expect_code(&self, code: i32) -> &Run {
        assert!(
            self.code == Some(code) && !self.stderr.contains("panicked"),
            "expected exit code {code} and no panic, got {:?}\n--- stdout\n{}--- stderr\n{}",
            self.code,
            self.stdout,
            self.stderr
        );
        self
    }

    pub fn stderr_has(&self, needle: &str) -> &Run {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}:\n{}",
            self.stderr
        );
        self
    }

    pub fn stdout_has(&self, needle: &str) -> &Run {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}:\n{}",
            self.stdout
        );
        self
    }
}

/// A kernel build directory of the host (`/lib/modules/*/build` with a Makefile), if any.
pub fn kernel_build_dir() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/lib/modules")
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("build"))
        .filter(|b| b.join("Makefile").is_file())
        .collect();
    dirs.sort();
    dirs.pop()
}

/// A directory that passes for a kernel build directory with `-r`, whose `make modules`
/// runs `recipe` (one shell line).
pub fn fake_build_dir(recipe: &str) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("test-rstapc-kbuild")
        .tempdir()
        .unwrap();
    std::fs::create_dir_all(dir.path().join("include/generated")).unwrap();
    std::fs::write(
        dir.path().join("include/generated/utsrelease.h"),
        "#define UTS_RELEASE \"6.1.0-fake\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("Makefile"),
        format!("modules:\n\t{recipe}\n"),
    )
    .unwrap();
    dir
}

pub fn example(name: &str) -> String {
    repo_root()
        .join("examples")
        .join(name)
        .display()
        .to_string()
}

/// Runs `cmd` with its output captured, as `Command::output` does, but kills it (and every
/// process it started: vng starts qemu) once `limit` has passed. A guest that hangs then
/// fails its test with what it printed so far, instead of holding CI until its own limit.
pub fn output_within(cmd: &mut Command, limit: std::time::Duration) -> Result<Output, String> {
    use std::io::Read;
    use std::os::unix::process::CommandExt;
    use std::process::Stdio;
    let mut child = cmd
        .process_group(0)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {:?}: {e}", cmd.get_program()))?;
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("piped")));
    let stderr = drain(Box::new(child.stderr.take().expect("piped")));
    let deadline = std::time::Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break Some(status);
        }
        if std::time::Instant::now() >= deadline {
            let group = nix::unistd::Pid::from_raw(child.id() as i32);
            let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    let (stdout, stderr) = (
        stdout.join().unwrap_or_default(),
        stderr.join().unwrap_or_default(),
    );
    match status {
        Some(status) => Ok(Output {
            status,
            stdout,
            stderr,
        }),
        None => Err(format!(
            "killed after {} s, the test's limit; it had printed:\n{}{}",
            limit.as_secs(),
            String::from_utf8_lossy(&stdout),
            String::from_utf8_lossy(&stderr)
        )),
    }
}

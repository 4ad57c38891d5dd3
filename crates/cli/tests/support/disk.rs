//! A small tmpfs to fill: the full-disk tests' disk. Mounting needs root
//! (CI runs as root); without it a test fails saying so, never skips.

use std::io::Write as _;
use std::path::{Path, PathBuf};

/// A tmpfs mounted on a temporary directory, unmounted on drop.
pub struct Tmpfs {
    _dir: tempfile::TempDir,
    pub mount: PathBuf,
}

impl Tmpfs {
    /// Mounts a tmpfs of `mib` MiB. Fails the test, saying what is needed,
    /// if it cannot: the test needs root (CI runs as root).
    pub fn mount(mib: u64) -> Tmpfs {
        let dir = tempfile::tempdir().expect("temp dir");
        let mount = dir.path().join("disk");
        std::fs::create_dir(&mount).unwrap();
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
            .arg(&mount)
            .output();
        match out {
            Ok(o) if o.status.success() => {}
            Ok(o) => panic!(
                "this test mounts a {mib} MiB tmpfs to fill it, which needs root (CI runs as root): mount said {}",
                String::from_utf8_lossy(&o.stderr).trim()
            ),
            Err(e) => panic!("this test mounts a tmpfs and needs the `mount` program and root: {e}"),
        }
        Tmpfs { _dir: dir, mount }
    }

    /// Bytes free for an unprivileged writer on it.
    pub fn free_bytes(&self) -> u64 {
        use std::os::unix::ffi::OsStrExt as _;
        let path = std::ffi::CString::new(self.mount.as_os_str().as_bytes()).unwrap();
        // SAFETY: statvfs writes into the zeroed struct it is given, from a
        // NUL-terminated path.
        let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
        let rc = unsafe { libc::statvfs(path.as_ptr(), &mut stat) };
        assert_eq!(rc, 0, "statvfs {}", self.mount.display());
        stat.f_bavail as u64 * stat.f_frsize as u64
    }

    /// Writes `filler` (on this disk) so that about `leave` bytes stay free.
    pub fn fill_leaving(&self, filler: &Path, leave: u64) {
        let size = self.free_bytes().saturating_sub(leave);
        let chunk = vec![0x5a_u8; 1 << 20];
        let mut file = std::fs::File::create(filler).unwrap();
        let mut written = 0;
        while written < size {
            let n = chunk.len().min((size - written) as usize);
            file.write_all(&chunk[..n]).unwrap();
            written += n as u64;
        }
        file.sync_all().unwrap();
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.mount)
            .status();
    }
}

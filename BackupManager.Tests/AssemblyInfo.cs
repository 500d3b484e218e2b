// BackupManager runs on Linux (flock, syncfs, PostgreSQL client tools); so do its tests.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

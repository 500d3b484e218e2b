using System.Globalization;
using System.Text;
using System.Text.Json;
using BackupManager.Core.Storage;

namespace BackupManager.Core.Jobs;

public enum ScheduledRunOutcome { Succeeded, Failed, Skipped }

using System.Text;
using System.Text.Json;

namespace BackupManager.Core.Jobs;

public enum ScheduledRunOutcome { Succeeded, Failed, Skipped }

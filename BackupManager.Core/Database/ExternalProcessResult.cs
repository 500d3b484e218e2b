using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging;

namespace BackupManager.Core.Database;

public sealed record ExternalProcessResult(int ExitCode, string StandardOutput, string StandardError);

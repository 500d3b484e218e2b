using BackupManager.Core;

namespace BackupManager.Web.Endpoints;

internal static class ScopeFromFlags
{
    public static BackupScope? Parse(bool? onlyDb, bool? onlyFiles) => (onlyDb ?? false, onlyFiles ?? false) switch
    {
        (true, true) => null,
        (true, false) => BackupScope.DatabaseOnly,
        (false, true) => BackupScope.FilesOnly,
        _ => BackupScope.Full,
    };
}

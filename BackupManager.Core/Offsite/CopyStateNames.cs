namespace BackupManager.Core.Offsite;

/// <summary>The one spelling of a <see cref="CopyState"/> in text output (the page and the console's table).</summary>
public static class CopyStateNames
{
    /// <summary>"copied", "pending", "failed" or "not-kept".</summary>
    public static string ToName(this CopyState state) =>
        System.Text.Json.JsonNamingPolicy.KebabCaseLower.ConvertName(state.ToString());
}

using System.Text.Json.Serialization;

namespace BackupManager.Core.Offsite;

/// <summary>Where one backup stands at one destination. The JSON names ("copied", "pending", "failed", "not-kept")
/// are the API's and the console's contract, whatever serializer options are in force.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<CopyState>))]
public enum CopyState
{
    /// <summary>The destination holds it (its catalog was there at the last listing).</summary>
    [JsonStringEnumMemberName("copied")] Copied,
    /// <summary>Waiting to be copied; the last copy to that destination did not fail.</summary>
    [JsonStringEnumMemberName("pending")] Pending,
    /// <summary>Waiting to be copied, and the last copy to that destination failed.</summary>
    [JsonStringEnumMemberName("failed")] Failed,
    /// <summary>The destination's retention would not keep it, so it is not sent there.</summary>
    [JsonStringEnumMemberName("not-kept")] NotKept,
}

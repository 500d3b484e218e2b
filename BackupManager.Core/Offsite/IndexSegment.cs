using System.Text.Json.Serialization;

namespace BackupManager.Core.Offsite;

/// <summary>Either <see cref="Inline"/> bytes or an object (<see cref="Object"/> key, plaintext <see cref="Length"/>
/// and <see cref="Sha256"/>).</summary>
public sealed record IndexSegment
{
    [JsonPropertyName("inline")] public byte[]? Inline { get; init; }
    [JsonPropertyName("object")] public string? Object { get; init; }
    [JsonPropertyName("length")] public long Length { get; init; }
    [JsonPropertyName("sha256")] public string? Sha256 { get; init; }
}

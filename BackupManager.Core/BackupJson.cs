using System.Text.Json;
using System.Text.Json.Serialization;

namespace BackupManager.Core;

/// <summary>The JSON dialect of every file the engine writes: snake_case names, kebab-case enum values, UTC ISO
/// 8601.</summary>
public static class BackupJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
    };

    public static readonly JsonSerializerOptions Compact = new(Options) { WriteIndented = false };
}

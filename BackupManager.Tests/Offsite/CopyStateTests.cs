using System.Text.Json;
using BackupManager.Core.Offsite;

namespace BackupManager.Tests.Offsite;

/// <summary>The copy states' names are the API's and the console's contract: an enum rename must not change them.
/// </summary>
public sealed class CopyStateTests
{
    [Theory]
    [InlineData(CopyState.Copied, "copied")]
    [InlineData(CopyState.Pending, "pending")]
    [InlineData(CopyState.Failed, "failed")]
    [InlineData(CopyState.NotKept, "not-kept")]
    public void Each_state_keeps_its_name_in_json_and_text(CopyState state, string name)
    {
        // Plain options (as the console's --json uses) and the API's snake_case options give the same string.
        Assert.Equal($"\"{name}\"", JsonSerializer.Serialize(state));
        Assert.Equal($"\"{name}\"", JsonSerializer.Serialize(state, Core.BackupJson.Options));
        Assert.Equal(name, state.ToName());
        Assert.Equal(state, JsonSerializer.Deserialize<CopyState>($"\"{name}\""));
    }
}

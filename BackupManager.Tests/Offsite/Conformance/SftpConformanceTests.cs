using BackupManager.Core.Offsite;
using BackupManager.Tests.Infrastructure;

namespace BackupManager.Tests.Offsite.Conformance;

/// <summary>The destination contract on the SFTP test server (OpenSSH's internal-sftp), in a folder of its
/// own.</summary>
public sealed class SftpConformanceTests : DestinationConformanceTests
{
    protected override DestinationOptions Options(TestFolder folder) =>
        TestDestinations.SftpAt(folder.Sub("sftp-root"));

    [Fact]
    public async Task An_object_whose_folder_was_removed_since_an_earlier_put_is_put_all_the_same()
    {
        // The destination remembers the folders it made; someone tidying the server must not break the next copy.
        var first = ObjectKey(1);
        var sameFolder = first[..^1] + (first[^1] == '0' ? '1' : '0');
        await PutAsync(first, [1, 2, 3]);
        Directory.Delete(Path.Combine(Folder.Sub("sftp-root"), Path.GetDirectoryName(first)!), recursive: true);

        await PutAsync(sameFolder, [4, 5, 6]);

        Assert.Equal([4, 5, 6], await ReadAsync(sameFolder));
        Assert.Equal([sameFolder], await KeysAsync(Path.GetDirectoryName(first)! + "/"));
    }
}

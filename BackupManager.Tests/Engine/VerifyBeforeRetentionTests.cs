using BackupManager.Core;
using BackupManager.Core.Storage;
using BackupManager.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace BackupManager.Tests.Engine;

/// <summary>Retention deletes nothing until the new archive has been read back and verified in full.</summary>
public sealed class VerifyBeforeRetentionTests
{
    [Fact]
    public async Task A_new_backup_that_does_not_read_back_is_removed_and_the_only_good_backup_is_kept()
    {
        CorruptingStore? store = null;
        await using var h = await EngineHarness.CreateAsync(o => o.MaxBackups = 1, replaceServices: services =>
            services.AddSingleton<IBackupStore>(sp =>
                store = new CorruptingStore(new BackupFolderStore(
                sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<BackupOptions>>().Value.Directory))));
        await h.SeedAsync();
        var good = await h.CreateBackupAsync();

        store!.CorruptNextCommit = true; // as a failing disk would: the bytes read back are not the bytes written
        var error = await Assert.ThrowsAsync<BackupException>(() => h.CreateBackupAsync());
        Assert.Equal(BackupErrorKind.Damaged, error.Kind);
        Assert.Contains("did not read back correctly, so it was deleted and no older backup was removed",
            error.Message);

        var list = await h.Engine.ListAsync();
        Assert.Equal([good.Filename], list.Select(b => b.Filename));
        await h.Engine.VerifyAsync(good.Filename);

        // With a healthy disk the next create succeeds and only then replaces the old one (MAX_BACKUPS=1).
        var next = await h.CreateBackupAsync();
        Assert.Equal([next.Filename], (await h.Engine.ListAsync()).Select(b => b.Filename));
    }

    /// <summary>The real folder store, flipping one bit in the middle of an archive as it is committed.</summary>
    private sealed class CorruptingStore(IBackupStore inner) : IBackupStore
    {
        public bool CorruptNextCommit { get; set; }
        public string Directory => inner.Directory;
        public IReadOnlyList<BackupInfo> List() => inner.List();
        public string ResolveExisting(string filename) => inner.ResolveExisting(filename);
        public string NewTempPath() => inner.NewTempPath();
        public string NewUploadPath() => inner.NewUploadPath();
        public void Delete(string filename) => inner.Delete(filename);
        public void SetPinned(string filename, bool pinned) => inner.SetPinned(filename, pinned);
        public int RemoveLeftovers() => inner.RemoveLeftovers();

        public string Commit(string tempPath, DateTimeOffset createdAt)
        {
            if (CorruptNextCommit)
            {
                CorruptNextCommit = false;
                using var file = new FileStream(tempPath, FileMode.Open, FileAccess.ReadWrite);
                file.Position = file.Length / 3;
                var b = file.ReadByte();
                file.Position--;
                file.WriteByte((byte)(b ^ 0x10));
            }
            return inner.Commit(tempPath, createdAt);
        }
    }
}

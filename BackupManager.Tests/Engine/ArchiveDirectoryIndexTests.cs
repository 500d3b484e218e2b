using BackupManager.Core.Archive;
using BackupManager.Tests.Infrastructure;

namespace BackupManager.Tests.Engine;

/// <summary>The spilled zip directory joins the manifest in the archive's order and out of it alike: what a crafted or
/// reordered manifest needs.</summary>
public sealed class ArchiveDirectoryIndexTests : IDisposable
{
    private readonly TestFolder _folder = new();

    [Fact]
    public void A_manifest_out_of_the_archives_order_joins_each_entry_to_its_own_record_once()
    {
        using var index = Index("files/a", "files/b", "files/c", "files/d", "manifest.json");
        Assert.Null(index.Seal());

        Assert.True(index.MarkListed("files/a", out var a, out _));
        Assert.True(index.MarkListed("files/b", out _, out _));
        Assert.True(index.MarkListed("files/d", out var d, out _)); // out of step from here on
        Assert.False(index.MarkListed("files/b", out _, out var twice));
        Assert.True(twice);
        Assert.False(index.MarkListed("files/x", out var missing, out twice));
        Assert.False(twice);
        Assert.Null(missing);
        Assert.Equal("files/c", index.FirstUnlisted("manifest.json"));
        Assert.True(index.MarkListed("files/c", out var c, out _));
        index.EndJoin();

        Assert.Null(index.FirstUnlisted("manifest.json"));
        Assert.Equal((0, 3, 2), (a!.DataOffset, d!.DataOffset, c!.DataOffset));
        Assert.Equal([0L, 1, 3, 2], index.InManifestOrder().Select(e => e.DataOffset));
        Assert.Equal(4, index.Find("manifest.json")!.DataOffset);
        Assert.Null(index.Find("files/e"));
    }

    [Fact]
    public void A_name_twice_in_the_directory_is_named()
    {
        using var index = Index("files/a", "files/b", "files/a");
        Assert.Equal("files/a", index.Seal());
    }

    private ArchiveDirectoryIndex Index(params string[] names)
    {
        var index = new ArchiveDirectoryIndex(Path.Combine(_folder.Path, Guid.NewGuid().ToString("N")));
        for (var i = 0; i < names.Length; i++)
            index.Add(new ZipStructure.Entry(names[i], i % 2 == 0, (uint)i, i, i, i));
        return index;
    }

    public void Dispose() => _folder.Dispose();
}

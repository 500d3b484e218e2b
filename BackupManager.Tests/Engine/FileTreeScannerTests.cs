using BackupManager.Core;
using BackupManager.Core.Files;
using BackupManager.Tests.Infrastructure;

namespace BackupManager.Tests.Engine;

/// <summary>The create's walk of a folder: the order a sort of the whole list gives (the archive's order, which the
/// next backup's shared chunks depend on), without listing the whole tree first.</summary>
public sealed class FileTreeScannerTests : IDisposable
{
    private readonly TestFolder _folder = new();

    [Fact]
    public void The_walk_gives_the_ordinal_order_of_relative_paths_even_where_a_folder_sorts_apart_from_its_contents()
    {
        // "a-b" and "a.txt" sort between the folder "a" and its contents "a/…" ('-' and '.' come before '/').
        foreach (var file in new[] { "a-b", "a.txt", "a/x", "a/b/c", "a/b-c", "a0", "B", "é.txt", "ab/z", "cache/t",
            "a/b/d/e" })
            Write(file);
        File.CreateSymbolicLink(Path.Combine(_folder.Path, "link"), "/etc");
        var warnings = new List<string>();

        var scanner = new FileTreeScanner(["cache/**"]);
        var walked = scanner.Scan(Root, warnings).Select(f => f.RelativePath).ToList();

        var sorted = walked.Order(StringComparer.Ordinal).ToList();
        Assert.Equal(sorted, walked);
        Assert.Equal(["", "B", "a", "a-b", "a.txt", "a/b", "a/b-c", "a/b/c", "a/b/d", "a/b/d/e", "a/x", "a0", "ab",
            "ab/z", "é.txt"], walked);
        Assert.Contains(warnings, w => w.Contains("link") && w.Contains("not followed"));
        // The progress's quicker measure counts the same files: the excluded one and the link's target are left out.
        Assert.Equal(scanner.Scan(Root, []).Sum(f => f.Size), scanner.MeasureBytes(Root, CancellationToken.None));
    }

    [Fact]
    public void A_folder_is_listed_when_the_walk_reaches_it_not_before()
    {
        Write("a/1");
        Write("z/1");
        using var walk = new FileTreeScanner([]).Scan(Root, []).GetEnumerator();
        Assert.True(walk.MoveNext() && walk.MoveNext()); // the root, then "a"

        Write("z/2"); // after the walk began: seen only if "z" is listed when reached
        var rest = new List<string>();
        while (walk.MoveNext()) rest.Add(walk.Current.RelativePath);

        Assert.Equal(["a/1", "z", "z/1", "z/2"], rest);
    }

    [Fact]
    public void A_folder_swapped_for_a_link_after_its_parent_was_listed_is_not_followed()
    {
        Write("a/1");
        Write("b/1");
        var outside = Path.Combine(_folder.Path, "..", Path.GetFileName(_folder.Path) + "-outside");
        Directory.CreateDirectory(outside);
        File.WriteAllText(Path.Combine(outside, "secret"), "not ours");
        try
        {
            var warnings = new List<string>();
            using var walk = new FileTreeScanner([]).Scan(Root, warnings).GetEnumerator();
            Assert.True(walk.MoveNext() && walk.MoveNext()); // the root, then "a": "b" is listed in the root already

            Directory.Move(Path.Combine(_folder.Path, "b"), Path.Combine(_folder.Path, "b-moved"));
            File.CreateSymbolicLink(Path.Combine(_folder.Path, "b"), outside);
            var rest = new List<string>();
            while (walk.MoveNext()) rest.Add(walk.Current.RelativePath);

            Assert.DoesNotContain("b/secret", rest);
            Assert.Contains(warnings, w => w.Contains("replaced by a link or a file"));
        }
        finally { Directory.Delete(outside, recursive: true); }
    }

    [Fact]
    public void The_backup_folder_inside_a_backed_up_folder_is_left_out_and_named()
    {
        Write("backups/backup-1.zip");
        Write("notes/1");
        var warnings = new List<string>();
        var scanner = new FileTreeScanner([], Path.Combine(_folder.Path, "backups") + "/");

        Assert.Equal(["", "notes", "notes/1"], scanner.Scan(Root, warnings).Select(f => f.RelativePath));
        Assert.Contains(warnings, w => w.Contains("holds the backups themselves"));
        Assert.Equal("notes/1".Length, scanner.MeasureBytes(Root, CancellationToken.None));
    }

    [Fact]
    public void A_missing_folder_gives_nothing_and_says_so()
    {
        var warnings = new List<string>();
        Assert.Empty(new FileTreeScanner([]).Scan(new FileRoot("gone", Path.Combine(_folder.Path, "gone")), warnings));
        Assert.Contains(warnings, w => w.Contains("does not exist"));
    }

    private FileRoot Root => new("scans", _folder.Path);

    private void Write(string relative)
    {
        var path = Path.Combine(_folder.Path, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, relative);
    }

    public void Dispose() => _folder.Dispose();
}

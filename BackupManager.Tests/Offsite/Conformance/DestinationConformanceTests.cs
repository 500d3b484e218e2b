using System.Security.Cryptography;
using BackupManager.Core.Offsite;
using BackupManager.Core.Offsite.Destinations;
using BackupManager.Tests.Infrastructure;

namespace BackupManager.Tests.Offsite.Conformance;

/// <summary>
/// The contract of <see cref="IDestinationStorage"/> as tests, run unchanged against every kind of destination on a
/// real server (restic's backend test suite): round trips byte for byte, listing by folder prefix, overwrite and
/// delete, the "is missing" error, and puts that break off, are cancelled or bring the wrong length leave nothing
/// under the final name. Each test has its own folder or prefix and empties it afterwards.
/// </summary>
public abstract partial class DestinationConformanceTests : IAsyncLifetime
{
    protected const string Name = "conformance";
    private IDestinationStorage? _storage;

    protected TestFolder Folder { get; } = new();
    protected IDestinationStorage Storage => _storage!;

    /// <summary>The settings of a destination of this kind that no other test uses.</summary>
    protected abstract DestinationOptions Options(TestFolder folder);

    public Task InitializeAsync()
    {
        _storage = OffsiteService.OpenStorage(Name, Options(Folder));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        foreach (var o in await Storage.ListAsync("", CancellationToken.None))
            await Storage.DeleteAsync(o.Key, CancellationToken.None);
        await Storage.DisposeAsync();
        Folder.Dispose();
    }

    /// <summary>Keys shaped as the off-site format makes them.</summary>
    protected static readonly string Catalog = OffsiteFormat.CatalogKey("backup-2026-12-05-14-08-17.zip");
    protected static readonly string Index = OffsiteFormat.IndexKey("backup-2026-12-05-14-08-17.zip");
    protected static readonly string NamingKey = OffsiteFormat.NamingKeyKey("0123456789abcdef");
    protected static string ObjectKey(int i) =>
        OffsiteFormat.ObjectKey(Convert.ToHexStringLower(SHA256.HashData(BitConverter.GetBytes(i))));

    [Fact]
    public async Task Objects_of_every_key_shape_round_trip_and_are_listed_with_their_size_and_a_recent_time()
    {
        var content = new Dictionary<string, byte[]>
        {
            [Catalog] = "{\"filename\":\"backup-2026-12-05-14-08-17.zip\"}"u8.ToArray(),
            [Index] = TestFolder.RandomBytes(3_000), [NamingKey] = TestFolder.RandomBytes(200),
            [ObjectKey(1)] = TestFolder.RandomBytes(70_000), [ObjectKey(2)] = [],
        };
        var before = DateTimeOffset.UtcNow;
        foreach (var (key, bytes) in content) await PutAsync(key, bytes);

        foreach (var (key, bytes) in content) Assert.Equal(bytes, await ReadAsync(key));
        var listed = await Storage.ListAsync("", CancellationToken.None);
        Assert.Equal(content.Keys.Order(StringComparer.Ordinal),
            listed.Select(o => o.Key).Order(StringComparer.Ordinal));
        foreach (var o in listed)
        {
            Assert.Equal(content[o.Key].Length, o.Size);
            // the sweep's grace period is measured from this time: it must be there and be the put's
            Assert.NotNull(o.Modified);
            Assert.InRange(o.Modified!.Value, before.AddMinutes(-2), DateTimeOffset.UtcNow.AddMinutes(2));
        }
    }

    [Fact]
    public async Task A_multi_megabyte_object_round_trips_byte_for_byte()
    {
        // over S3Destination.MultipartThreshold: three parts there
        var bytes = TestFolder.RandomBytes(20_000_000);
        await PutAsync(ObjectKey(7), bytes);

        Assert.Equal(SHA256.HashData(bytes), SHA256.HashData(await ReadAsync(ObjectKey(7))));
        Assert.Equal(20_000_000, Assert.Single(await Storage.ListAsync("", CancellationToken.None)).Size);
    }

    [Fact]
    public async Task Listing_a_folder_prefix_gives_the_full_keys_under_it_and_nothing_else()
    {
        foreach (var key in new[] { Catalog, Index, NamingKey, ObjectKey(1), ObjectKey(2) })
            await PutAsync(key, [1, 2, 3]);

        Assert.Equal(new[] { ObjectKey(1), ObjectKey(2) }.Order(StringComparer.Ordinal),
            await KeysAsync(OffsiteFormat.DataPrefix));
        Assert.Equal(new[] { Catalog, Index }.Order(StringComparer.Ordinal),
            await KeysAsync(OffsiteFormat.BackupsPrefix));
        Assert.Equal([NamingKey], await KeysAsync(OffsiteFormat.KeysPrefix));
        Assert.Empty(await KeysAsync("nothing-here/"));
        Assert.Equal(5, (await KeysAsync("")).Count);
    }

    [Fact]
    public async Task An_empty_destination_lists_nothing()
    {
        Assert.Empty(await Storage.ListAsync("", CancellationToken.None));
        Assert.Empty(await Storage.ListAsync(OffsiteFormat.DataPrefix, CancellationToken.None));
    }

    [Fact]
    public async Task A_listing_of_more_than_a_thousand_objects_gives_every_one()
    {
        // S3 answers 1,000 keys per page: the listing must follow the continuation
        var keys = Enumerable.Range(0, 1_010).Select(ObjectKey).ToList();
        await Parallel.ForEachAsync(keys, new ParallelOptions { MaxDegreeOfParallelism = 8 },
            async (key, ct) => await Storage.PutAsync(key, new MemoryStream([7]), 1, ct));

        Assert.Equal(keys.Order(StringComparer.Ordinal), await KeysAsync(""));
    }

    [Fact]
    public async Task Putting_under_an_existing_key_replaces_the_object_whole()
    {
        await PutAsync(Index, TestFolder.RandomBytes(3_000_000));
        var second = TestFolder.RandomBytes(1_000);
        await PutAsync(Index, second);

        Assert.Equal(second, await ReadAsync(Index));
        Assert.Equal(1_000, Assert.Single(await Storage.ListAsync("", CancellationToken.None)).Size);
    }

    [Fact]
    public async Task Reading_a_missing_object_is_a_destination_exception_that_names_it_as_missing()
    {
        await PutAsync(ObjectKey(1), [1]);
        foreach (var key in new[] { ObjectKey(2), "backups/never.json", "no-such-folder/deeper/x" })
        {
            var e = await Assert.ThrowsAsync<DestinationException>(() => Storage.OpenReadAsync(key,
                CancellationToken.None));
            Assert.StartsWith($"{Name}: ", e.Message);
            Assert.Contains($"{key} is missing", e.Message); // FetchAsync tells "no such backup" by this
            Assert.False(e.NeedsAction);
        }
    }

    [Fact]
    public async Task Deleting_removes_the_object_and_deleting_a_missing_one_succeeds()
    {
        await PutAsync(ObjectKey(1), [1]);
        await PutAsync(ObjectKey(2), [2]);

        await Storage.DeleteAsync(ObjectKey(1), CancellationToken.None);
        Assert.Equal([ObjectKey(2)], await KeysAsync(""));
        await Assert.ThrowsAsync<DestinationException>(() => Storage.OpenReadAsync(ObjectKey(1),
            CancellationToken.None));

        // retention deletes a catalog's index after the catalog: a run interrupted between the two repeats it
        await Storage.DeleteAsync(ObjectKey(1), CancellationToken.None);
        await Storage.DeleteAsync("backups/never-there.index", CancellationToken.None);
        Assert.Equal([ObjectKey(2)], await KeysAsync(""));
    }

    [Fact]
    public async Task Removing_leftovers_never_touches_a_complete_object()
    {
        await PutAsync(Catalog, [1, 2]);
        await PutAsync(ObjectKey(3), TestFolder.RandomBytes(5_000));

        await Storage.RemoveLeftoversAsync(TimeSpan.Zero, CancellationToken.None);

        Assert.Equal(new[] { Catalog, ObjectKey(3) }.Order(StringComparer.Ordinal), await KeysAsync(""));
        Assert.Equal(5_000, (await ReadAsync(ObjectKey(3))).Length);
    }

    protected async Task PutAsync(string key, byte[] bytes) =>
        await Storage.PutAsync(key, new MemoryStream(bytes), bytes.Length, CancellationToken.None);

    protected async Task<byte[]> ReadAsync(string key)
    {
        await using var stream = await Storage.OpenReadAsync(key, CancellationToken.None);
        var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }

    protected async Task<List<string>> KeysAsync(string prefix) =>
        (await Storage.ListAsync(prefix, CancellationToken.None)).Select(o => o.Key).Order(StringComparer.Ordinal)
            .ToList();
}

using BackupManager.Core.Offsite.Destinations;
using BackupManager.Tests.Infrastructure;

namespace BackupManager.Tests.Offsite.Conformance;

public abstract partial class DestinationConformanceTests
{
    // 1 MB goes as one request to S3, 20 MB as a multipart upload; a folder and SFTP write a temp file either way.

    [Theory]
    [InlineData(1_000_000)]
    [InlineData(20_000_000)]
    public async Task A_put_whose_source_breaks_off_leaves_nothing_new_and_the_old_object_whole(int size)
    {
        var old = TestFolder.RandomBytes(2_000);
        await PutAsync(Index, old);
        var bytes = TestFolder.RandomBytes(size);

        foreach (var key in new[] { Index, ObjectKey(1) })
        {
            var e = await Assert.ThrowsAnyAsync<Exception>(() => Storage.PutAsync(key,
                new BrokenSourceStream(bytes, size / 2), size, CancellationToken.None));
            Assert.True(e is IOException or DestinationException, e.ToString());
            Assert.Contains("broke off", string.Join(" | ", Chain(e).Select(x => x.Message)));
        }

        Assert.Equal([Index], await KeysAsync(""));
        Assert.Equal(old, await ReadAsync(Index));
        await Assert.ThrowsAsync<DestinationException>(() => Storage.OpenReadAsync(ObjectKey(1),
            CancellationToken.None));
    }

    [Theory]
    [InlineData(1_000_000)]
    [InlineData(20_000_000)]
    public async Task A_put_cancelled_while_its_source_stalls_ends_promptly_and_leaves_nothing_new(int size)
    {
        var old = TestFolder.RandomBytes(2_000);
        await PutAsync(Index, old);
        using var cancel = new CancellationTokenSource();
        var source = new BrokenSourceStream(TestFolder.RandomBytes(size), size / 2, cancel.Token);

        var put = Storage.PutAsync(Index, source, size, cancel.Token);
        await source.Broke.Task.WaitAsync(TimeSpan.FromSeconds(60));
        cancel.Cancel();

        // a timeout here is a destination that kept waiting after it was cancelled
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => put.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal([Index], await KeysAsync(""));
        Assert.Equal(old, await ReadAsync(Index));
    }

    [Theory]
    [InlineData(1_000_000, +1)]
    [InlineData(1_000_000, -1)]
    [InlineData(20_000_000, +1)]
    [InlineData(20_000_000, -1)]
    public async Task A_put_whose_content_differs_from_its_stated_length_is_refused_and_leaves_nothing(int size,
        int statedMore)
    {
        var bytes = TestFolder.RandomBytes(size);

        var e = await Assert.ThrowsAsync<DestinationException>(() => Storage.PutAsync(ObjectKey(1),
            new MemoryStream(bytes), size + statedMore, CancellationToken.None));

        Assert.StartsWith($"{Name}: ", e.Message);
        Assert.Contains($"came out {size:D} bytes long instead of {size + statedMore:D}", e.Message);
        Assert.Empty(await KeysAsync(""));
    }

    private static IEnumerable<Exception> Chain(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException) yield return x;
    }
}

using System.Diagnostics;
using System.Security.Cryptography;
using BackupManager.Core;
using BackupManager.Core.Offsite;

namespace BackupManager.Tests.Offsite.Conformance;

/// <summary>
/// The product's copy, fetch and check through <see cref="FaultyDestination"/> on every kind of destination, the same
/// way: a failed call lists nothing as copied and the next copy completes; rot or truncation on the way back is
/// refused and nothing is added; the check names the missing and damaged pieces; a stalled destination gives way to
/// the caller's timeout.
/// </summary>
public sealed class OffsiteFaultTests
{
    private const string Offsite = FaultyClinic.Destination;
    private static bool IsData(string key) => key.StartsWith(OffsiteFormat.DataPrefix, StringComparison.Ordinal);
    private static bool IsCatalog(string key) => OffsiteFormat.FilenameOfCatalog(key) is not null;
    private static string Sha(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    [Theory]
    [InlineData("folder")]
    [InlineData("s3")]
    [InlineData("sftp")]
    public async Task A_call_that_fails_leaves_nothing_listed_as_copied_and_the_next_copy_completes(string kind)
    {
        await using var c = await FaultyClinic.CreateAsync(kind);
        var backup = await c.Harness.CreateBackupAsync();
        var faults = new Action[]
        {
            () => c.Plan.FailOn(DestinationCall.List), // the destination cannot be reached at all
            () => c.Plan.FailOn(DestinationCall.Put, nth: 2), // an object of the archive
            () => c.Plan.FailOn(DestinationCall.Put, key: IsCatalog), // the last put: everything else is there
            () => c.Plan.FailOn(DestinationCall.Flush), // the pieces could not be made durable: no catalog
        };

        foreach (var arm in faults)
        {
            arm();
            var report = Assert.Single(await c.Offsite.CopyPendingAsync());
            c.Plan.Heal();
            Assert.False(report.Succeeded);
            Assert.Contains(FaultPlan.FailureText, report.Error);
            Assert.Empty(report.Copied);
            Assert.Empty(await c.Offsite.ListAsync(Offsite));
            Assert.Equal(CopyState.Failed, Assert.Single(c.Offsite.CopiesOf(backup.Filename)).State);
        }

        var done = Assert.Single(await c.Offsite.CopyPendingAsync());
        Assert.True(done.Succeeded, done.Error);
        Assert.Equal([backup.Filename], done.Copied);
        Assert.Equal(backup.Filename, Assert.Single(await c.Offsite.ListAsync(Offsite)).Filename);
        Assert.Equal(CopyState.Copied, Assert.Single(c.Offsite.CopiesOf(backup.Filename)).State);
        var check = await c.Offsite.CheckAsync(Offsite);
        Assert.True(check.Healthy, string.Join(" ", check.Problems));
    }

    [Theory]
    [InlineData("folder", true)]
    [InlineData("folder", false)]
    [InlineData("s3", true)]
    [InlineData("s3", false)]
    [InlineData("sftp", true)]
    [InlineData("sftp", false)]
    public async Task A_flipped_byte_or_a_cut_short_object_on_fetch_is_refused_and_nothing_is_added(string kind,
        bool encrypted)
    {
        await using var c = await FaultyClinic.CreateAsync(kind, encrypted);
        var backup = await c.Harness.CreateBackupAsync();
        Assert.True(Assert.Single(await c.Offsite.CopyPendingAsync()).Succeeded);
        var original = Sha(c.Harness.PathOf(backup.Filename));
        File.Delete(c.Harness.PathOf(backup.Filename));
        var folderBefore = Directory.GetFiles(c.Harness.BackupDirectory).Order().ToList();
        var identities = TestDestinations.Identities(c.IdentityFile);
        // objects are at least 1 KiB: byte 1000 is in the age payload, past its header
        var faults = new Action[]
        {
            () => c.Plan.FlipByteOnRead(IsData, 1000), () => c.Plan.TruncateReads(IsData, 900),
        };

        foreach (var arm in faults)
        {
            arm();
            var e = await Assert.ThrowsAsync<BackupException>(() => c.Offsite.FetchAsync(Offsite, backup.Filename,
                identities, "test@clinic"));
            c.Plan.Heal();
            Assert.Equal(BackupErrorKind.Damaged, e.Kind);
            Assert.Matches($"{OffsiteFormat.DataPrefix}[0-9a-f]{{2}}/[0-9a-f]{{64}}", e.Message); // names the piece
            Assert.Contains($"Run app:check-destination {Offsite}", e.Message);
            Assert.Equal(folderBefore, Directory.GetFiles(c.Harness.BackupDirectory).Order().ToList());
        }

        await c.Offsite.FetchAsync(Offsite, backup.Filename, identities, "test@clinic");
        Assert.Equal(original, Sha(c.Harness.PathOf(backup.Filename)));
    }

    [Theory]
    [InlineData("folder")]
    [InlineData("s3")]
    [InlineData("sftp")]
    public async Task The_check_names_the_missing_the_rotten_and_the_cut_short_pieces(string kind)
    {
        await using var c = await FaultyClinic.CreateAsync(kind);
        // Three files too large to share a pack: enough objects to break one each way.
        for (var i = 0; i < 3; i++) Infrastructure.TestFolder.WriteFile(
            Path.Combine(c.Harness.Xrays, "ct", $"volume-{i}.dcm"), Infrastructure.TestFolder.RandomBytes(1_100_000));
        await c.Harness.CreateBackupAsync();
        string? keptShort = null; // a destination that kept only 100 bytes of the first object it was sent
        c.Plan.TruncateWrites(k => IsData(k) && (keptShort ??= k) == k, 100);
        Assert.True(Assert.Single(await c.Offsite.CopyPendingAsync()).Succeeded);
        c.Plan.Heal();
        await using var real = c.OpenReal();
        var data = (await real.ListAsync(OffsiteFormat.DataPrefix, CancellationToken.None)).Select(o => o.Key)
            .Where(k => k != keptShort).Order(StringComparer.Ordinal).ToList();
        Assert.True(data.Count >= 3, $"the seeded backup has {data.Count} other objects");
        await real.DeleteAsync(data[0], CancellationToken.None);
        c.Plan.FlipByteOnRead(k => k == data[1], 10).TruncateReads(k => k == data[2], 100);

        var report = await c.Offsite.CheckAsync(Offsite);

        Assert.False(report.Healthy);
        var problems = string.Join("\n", report.Problems);
        Assert.Contains($"{data[0]} is missing", problems);
        Assert.Contains($"{data[1]} is damaged", problems);
        Assert.Contains($"{data[2]} is damaged", problems);
        Assert.Matches($"{keptShort} is 100 bytes instead of [0-9,]+", problems);
        // the object kept short is named twice (its size, then its hash when sampled); nothing else is named
        Assert.All(report.Problems, p => Assert.Contains(new[] { data[0], data[1], data[2], keptShort! },
            k => p.Contains(k!, StringComparison.Ordinal)));
        var health = Assert.Single(c.Offsite.HealthChecks(), h => h.Name == $"destination:{Offsite}");
        Assert.False(health.Healthy);
        Assert.Contains($"Run app:check-destination {Offsite}", health.Detail);
    }

    [Theory]
    [InlineData("folder")]
    [InlineData("s3")]
    [InlineData("sftp")]
    public async Task A_stalled_destination_gives_way_to_the_callers_timeout_and_leaves_nothing_half_done(string kind)
    {
        await using var c = await FaultyClinic.CreateAsync(kind);
        var backup = await c.Harness.CreateBackupAsync();

        c.Plan.Stall(DestinationCall.Put, IsData);
        await StopsWithinAsync(ct => c.Offsite.CopyPendingAsync(cancellationToken: ct));
        c.Plan.Heal();
        Assert.Empty(await c.Offsite.ListAsync(Offsite));
        Assert.True(Assert.Single(await c.Offsite.CopyPendingAsync()).Succeeded); // nothing stayed locked

        File.Delete(c.Harness.PathOf(backup.Filename));
        var folderBefore = Directory.GetFiles(c.Harness.BackupDirectory).Order().ToList();
        c.Plan.Stall(DestinationCall.Read, IsData);
        await StopsWithinAsync(ct => c.Offsite.FetchAsync(Offsite, backup.Filename,
            TestDestinations.Identities(c.IdentityFile), "test@clinic", cancellationToken: ct));
        Assert.Equal(folderBefore, Directory.GetFiles(c.Harness.BackupDirectory).Order().ToList());
        await StopsWithinAsync(ct => c.Offsite.CheckAsync(Offsite, cancellationToken: ct));
        c.Plan.Heal();
        Assert.True((await c.Offsite.CheckAsync(Offsite)).Healthy);
    }

    /// <summary>The operation, given a 2 s timeout, ends in a cancellation well before a stall would end it.</summary>
    private static async Task StopsWithinAsync(Func<CancellationToken, Task> operation)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        var clock = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => operation(timeout.Token).WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"it took {clock.Elapsed} to stop");
    }
}

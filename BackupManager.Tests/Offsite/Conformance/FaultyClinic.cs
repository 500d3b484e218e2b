using BackupManager.Core.Offsite;
using BackupManager.Core.Storage;
using BackupManager.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace BackupManager.Tests.Offsite.Conformance;

/// <summary>
/// A seeded clinic with one destination "offsite" of a given kind on a real server, and the product's
/// <see cref="OffsiteService"/> reaching it only through <see cref="FaultyDestination"/>s that obey <see cref="Plan"/>.
/// </summary>
public sealed class FaultyClinic : IAsyncDisposable
{
    public const string Destination = "offsite";

    private FaultyClinic(EngineHarness harness, TestFolder keys, string identityFile)
    {
        Harness = harness;
        Keys = keys;
        IdentityFile = identityFile;
        Offsite = new OffsiteService(Microsoft.Extensions.Options.Options.Create(harness.Options),
            harness.Get<IBackupStore>(), harness.Engine, TimeProvider.System, NullLogger<OffsiteService>.Instance,
            (name, options) => new FaultyDestination(OffsiteService.OpenStorage(name, options), Plan));
    }

    public EngineHarness Harness { get; }
    public TestFolder Keys { get; }
    public string IdentityFile { get; }
    public FaultPlan Plan { get; } = new();
    public OffsiteService Offsite { get; }
    public DestinationOptions Options => Harness.Options.Destinations[Destination];

    /// <summary>The clinic, its destination encrypted to an age key (as deployed) unless
    /// <paramref name="encrypted"/> is false (then only the product's own SHA-256 checks guard the bytes).</summary>
    public static async Task<FaultyClinic> CreateAsync(string kind, bool encrypted = true)
    {
        var keys = new TestFolder();
        var (identityFile, recipient) = TestDestinations.Key(keys);
        var harness = await EngineHarness.CreateAsync(o =>
        {
            var destination = TestDestinations.Of(kind, keys);
            destination.AllowUnencrypted = !encrypted;
            o.Destinations[Destination] = destination;
            if (encrypted) o.Encryption.Recipients = [recipient];
        });
        await harness.SeedAsync();
        return new FaultyClinic(harness, keys, identityFile);
    }

    /// <summary>The real destination, without faults, to look at or damage what it holds.</summary>
    public Core.Offsite.Destinations.IDestinationStorage OpenReal() => OffsiteService.OpenStorage(Destination, Options);

    public async ValueTask DisposeAsync()
    {
        await Harness.DisposeAsync();
        Keys.Dispose();
    }
}

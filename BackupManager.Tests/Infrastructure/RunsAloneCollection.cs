namespace BackupManager.Tests.Infrastructure;

/// <summary>
/// Tests that look at the whole test process's threads or at the test cluster's whole transaction rate: they run on
/// their own, after the parallel ones, so other tests' compression threads and queries cannot be mistaken for theirs.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RunsAloneCollection
{
    public const string Name = "Runs alone";
}

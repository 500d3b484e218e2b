namespace BackupManager.Web.Demo;

public sealed class SeedDemoCommand(DemoClinicSeeder seeder) : Commands.IConsoleCommand
{
    public string Name => "seed-demo";
    public string Usage => "";
    public string Summary
        => "Adds a small demo clinic to an empty database and sample X-rays to the first backed-up folder.";

    public async Task<int> RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        foreach (var message in await seeder.SeedAsync(cancellationToken)) Console.Error.WriteLine(message);
        return Commands.ExitCodes.Success;
    }
}

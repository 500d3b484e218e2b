using System.Text;

namespace BackupManager.Web.Commands;

/// <summary>Reads a password: from standard input when it is not a terminal, otherwise with a hidden prompt,
/// twice.</summary>
internal static class PasswordInput
{
    public static string Read()
    {
        if (Console.IsInputRedirected)
            return Console.In.ReadLine()?.TrimEnd('\r', '\n')
                ?? throw new UsageException("No password on standard input.");
        var first = Prompt("Password: ");
        if (Prompt("Repeat it: ") != first) throw new UsageException("The two passwords differ.");
        return first;
    }

    private static string Prompt(string label)
    {
        Console.Error.Write(label);
        var text = new StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter) break;
            if (key.Key == ConsoleKey.Backspace) { if (text.Length > 0) text.Length--; }
            else if (!char.IsControl(key.KeyChar)) text.Append(key.KeyChar);
        }
        Console.Error.WriteLine();
        return text.ToString();
    }
}

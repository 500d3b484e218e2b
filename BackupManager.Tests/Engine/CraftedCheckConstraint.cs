namespace BackupManager.Tests.Engine;

/// <summary>
/// The set-up of an archive crafted elsewhere: a table whose CHECK constraint calls a function that runs
/// <c>action</c> only when restored (the session that makes the archive switches it off with bm.armed).
/// </summary>
internal static class CraftedCheckConstraint
{
    /// <summary>SQL creating public.looks_harmless(int) and public.innocent, one row, with <paramref name="action"/>
    /// run by the constraint whenever bm.armed is not 'off'.</summary>
    public static string Sql(string action) => $"""
        CREATE FUNCTION public.looks_harmless(x int) RETURNS boolean LANGUAGE plpgsql AS $$
        BEGIN
          IF coalesce(current_setting('bm.armed', true), 'on') <> 'off' THEN
            {action}
          END IF;
          RETURN true;
        END $$;
        CREATE TABLE public.innocent (x int CHECK (public.looks_harmless(x)));
        SET bm.armed = 'off';
        INSERT INTO public.innocent VALUES (1);
        """;
}

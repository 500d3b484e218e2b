using MudBlazor;

namespace BackupManager.Web.Components.Layout;

/// <summary>One theme for every page: calm clinic blue, no external fonts (the server may have no internet).</summary>
public static class ClinicTheme
{
    public static readonly MudTheme Theme = new()
    {
        PaletteLight = new PaletteLight { Primary = "#1f6f8b", Secondary = "#99a8b2", AppbarBackground = "#1f6f8b" },
        Typography = new Typography { Default = new DefaultTypography { FontFamily = ["system-ui", "Segoe UI", "Roboto", "Helvetica", "Arial", "sans-serif"] } },
    };
}

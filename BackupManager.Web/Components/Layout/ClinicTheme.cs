using MudBlazor;

namespace BackupManager.Web.Components.Layout;

/// <summary>One theme for every page: calm clinic blue, no external fonts (the server may have no internet).</summary>
public static class ClinicTheme
{
    public static readonly MudTheme Theme = new()
    {
        // Status colours darkened from MudBlazor's defaults so text in them reaches 4.5:1 on white (WCAG 2.1 AA).
        PaletteLight = new PaletteLight
        {
            Primary = "#1f6f8b", Secondary = "#5f6f7a", AppbarBackground = "#1f6f8b",
            Info = "#0d6aa8", Success = "#2e7d32", Warning = "#a75200", Error = "#c62828",
            TextSecondary = "rgba(0,0,0,0.68)",
        },
        Typography = new Typography { Default = new DefaultTypography { FontFamily = ["system-ui", "Segoe UI",
            "Roboto", "Helvetica", "Arial", "sans-serif"] } },
    };
}

using BackupManager.Web.Components.Layout;
using BackupManager.Web.Components.Shared;
using Bunit;

namespace BackupManager.Tests.Ui;

public sealed class PermissionTests
{
    [Fact]
    public async Task The_menu_shows_backup_entries_only_to_users_with_the_permission()
    {
        await using (var allowed = new PageTestContext(withPermission: true))
        {
            var layout = allowed.Context.Render<MainLayout>();
            Assert.NotEmpty(layout.FindAll("[data-testid=nav-backups]"));
            Assert.NotEmpty(layout.FindAll("[data-testid=nav-audit]"));
        }
        await using var refused = new PageTestContext(withPermission: false);
        var noMenu = refused.Context.Render<MainLayout>();
        Assert.Empty(noMenu.FindAll("[data-testid=nav-backups]"));
        Assert.Empty(noMenu.FindAll("[data-testid=nav-audit]"));
        Assert.Equal("admin@clinic.test", noMenu.Find("[data-testid=user-name]").TextContent.Trim());
    }

    [Fact]
    public async Task The_not_allowed_page_names_the_user_and_the_missing_permission()
    {
        await using var t = new PageTestContext(withPermission: false);
        var (_, _, page) = t.Render<NotAllowed>();
        var text = page.Find("[data-testid=not-allowed]").TextContent;
        Assert.Contains("admin@clinic.test", text);
        Assert.Contains("manage-backups", text);
    }
}

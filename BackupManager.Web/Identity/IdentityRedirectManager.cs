using Microsoft.AspNetCore.Components;

namespace BackupManager.Web.Identity;

/// <summary>Redirects from the static account pages, refusing open redirects to other sites.</summary>
internal sealed class IdentityRedirectManager(NavigationManager navigationManager)
{
    public void RedirectTo(string? uri) => navigationManager.NavigateTo(IsLocal(uri) ? uri! : "");

    /// <summary>
    /// A path on this site, in plain printable ASCII: the app's own return addresses are always escaped, and anything
    /// else (U+2215 DIVISION SLASH, tabs a browser drops, backslashes it reads as slashes) could lead off-site or make
    /// an invalid Location header.
    /// </summary>
    public static bool IsLocal(string? uri) =>
        !string.IsNullOrEmpty(uri)
        && uri.All(c => c is > ' ' and < (char)0x7F and not '\\')
        && (uri[0] == '/' ? uri.Length == 1 || uri[1] != '/' : !uri.Contains(':'))
        && Uri.IsWellFormedUriString(uri, UriKind.Relative);
}

//! What a user can open, as links: the navigation bar and the home page are both built
//! from the pages each view module declares in its `MENU`, shown to a user exactly when
//! the page's route, as declared in its module's `ROUTES` (see `crate::access`), lets that user in. A
//! page that is not built cannot be listed (the test below checks every entry is a
//! declared route), and a role sees what it can do now, never "not yet available".

use salus_app::identity::{CurrentUser, Permission};
use salus_core::Role;

use crate::access::{self, Access};

/// A page worth a link.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    /// The link's text.
    pub label: &'static str,
    /// The page's route, exactly as declared in the access table.
    pub path: &'static str,
    /// One line on what the page is for, shown on the home page.
    pub what: &'static str,
    /// Shown in the navigation bar too (the home page shows every entry).
    pub nav: bool,
    /// For pages open to anyone (the API documentation): the permission that makes them
    /// worth a link.
    pub worth_it_with: Option<Permission>,
}

impl Entry {
    pub const fn page(label: &'static str, path: &'static str, what: &'static str) -> Self {
        Self { label, path, what, nav: true, worth_it_with: None }
    }

    /// Listed on the home page only.
    pub const fn home_only(label: &'static str, path: &'static str, what: &'static str) -> Self {
        Self { label, path, what, nav: false, worth_it_with: None }
    }

    /// The permission the entry needs: the route's own, or the one it is worth it with.
    fn needs(&self) -> Option<Permission> {
        match access::declared(self.path) {
            Some(Access::Permission(p)) => Some(p),
            _ => self.worth_it_with,
        }
    }

    /// Whether `role` alone opens it.
    fn for_role(&self, role: Role) -> bool {
        self.needs().is_some_and(|p| p.granted_to(role))
    }

    /// Whether this user (with any token scope) opens it.
    fn for_user(&self, user: &CurrentUser) -> bool {
        self.needs().is_some_and(|p| user.may(p))
    }
}

/// Every module's pages, in the order the navigation shows them.
pub const MENUS: &[&[Entry]] = &[
    super::patients::MENU,
    super::appointments::MENU,
    super::organisation::MENU,
    super::laboratory::MENU,
    super::imaging::MENU,
    super::pharmacy::MENU,
    super::inpatient::MENU,
    super::billing::MENU,
    super::clinical_catalog::MENU,
    super::operations::MENU,
    super::users::MENU,
    super::audit::MENU,
    super::break_glass::MENU,
];

pub fn entries() -> impl Iterator<Item = &'static Entry> {
    MENUS.iter().flat_map(|m| m.iter())
}

/// The navigation bar's links for `user`: (label, href).
pub fn nav(user: &CurrentUser) -> Vec<(&'static str, &'static str)> {
    let mut items = vec![("Home", "/")];
    items.extend(entries().filter(|e| e.nav && e.for_user(user)).map(|e| (e.label, e.path)));
    items.push(("Profile", "/profile"));
    items
}

/// What `role` can open, for its card on the home page.
pub fn for_role(role: Role, user: &CurrentUser) -> Vec<&'static Entry> {
    entries().filter(|e| e.for_role(role) && e.for_user(user)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_is_a_declared_page_some_role_opens() {
        for e in entries() {
            assert!(access::declared(e.path).is_some(), "{} is not a declared route", e.path);
            assert!(
                Role::ALL.iter().any(|r| e.for_role(*r)),
                "{} ({}) is open to no role: it needs a permission or worth_it_with",
                e.label,
                e.path
            );
        }
    }

    #[test]
    fn each_staff_role_has_something_to_do() {
        let listed = |role: Role| entries().filter(|e| e.for_role(role)).map(|e| e.path).collect::<Vec<_>>();
        assert!(listed(Role::Doctor).contains(&"/worklist"), "{:?}", listed(Role::Doctor));
        assert!(listed(Role::Receptionist).contains(&"/appointments"));
        assert!(listed(Role::Receptionist).contains(&"/patients/new"));
        assert!(listed(Role::Nurse).contains(&"/patients"));
        assert!(listed(Role::LabTechnician).contains(&"/lab"), "{:?}", listed(Role::LabTechnician));
        assert!(listed(Role::Doctor).contains(&"/lab/inbox"));
        assert!(!listed(Role::Receptionist).contains(&"/admin/users"));
        assert!(listed(Role::Patient).is_empty(), "a patient's links come from its own record");
    }
}

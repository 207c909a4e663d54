// The signed-in user's menu: role, change password, sign out. Keyboard: Enter/Space/ArrowDown opens,
// arrows move, Escape closes and returns focus to the button.
import { useEffect, useId, useRef, useState } from "react";
import { useNavigate } from "react-router";
import { RoleBadge } from "../components/RoleBadge";
import { ChevronDownIcon } from "../components/icons";
import { useAuth, useUser } from "../features/auth/AuthContext";
import { ChangePasswordDialog } from "../features/auth/ChangePasswordDialog";

export function UserMenu() {
  const user = useUser();
  const { signOut } = useAuth();
  const navigate = useNavigate();
  const [open, setOpen] = useState(false);
  const [dialog, setDialog] = useState(false);
  const menuId = useId();
  const buttonRef = useRef<HTMLButtonElement>(null);
  const menuRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!open) return;
    menuRef.current?.querySelector<HTMLElement>('[role="menuitem"]')?.focus();
    function onPointer(e: PointerEvent) {
      const t = e.target as Node;
      if (!menuRef.current?.contains(t) && !buttonRef.current?.contains(t)) setOpen(false);
    }
    document.addEventListener("pointerdown", onPointer);
    return () => document.removeEventListener("pointerdown", onPointer);
  }, [open]);

  function close(refocus = true) {
    setOpen(false);
    if (refocus) buttonRef.current?.focus();
  }

  function onMenuKey(e: React.KeyboardEvent) {
    const items = Array.from(menuRef.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? []);
    const i = items.indexOf(document.activeElement as HTMLElement);
    if (e.key === "Escape") {
      e.preventDefault();
      close();
    } else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const step = e.key === "ArrowDown" ? 1 : -1;
      items[(i + step + items.length) % items.length]?.focus();
    } else if (e.key === "Home" || e.key === "End") {
      e.preventDefault();
      (e.key === "Home" ? items[0] : items[items.length - 1])?.focus();
    } else if (e.key === "Tab") {
      close(false);
    }
  }

  return (
    <div className="user-menu">
      <button
        ref={buttonRef}
        type="button"
        className="btn btn-ghost user-menu-button"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? menuId : undefined}
        onClick={() => setOpen((o) => !o)}
        onKeyDown={(e) => {
          if (e.key === "ArrowDown") {
            e.preventDefault();
            setOpen(true);
          }
        }}
      >
        <span className="avatar" aria-hidden="true">
          {user.username.slice(0, 1).toUpperCase()}
        </span>
        <span className="user-menu-name">{user.username}</span>
        <RoleBadge role={user.role} />
        <ChevronDownIcon />
      </button>
      {open && (
        <div ref={menuRef} id={menuId} className="menu" role="menu" aria-label="Account" onKeyDown={onMenuKey}>
          <div className="menu-header" role="presentation">
            Signed in as <strong>{user.username}</strong>
          </div>
          <button
            type="button"
            role="menuitem"
            className="menu-item"
            onClick={() => {
              close(false);
              setDialog(true);
            }}
          >
            Change password
          </button>
          <button
            type="button"
            role="menuitem"
            className="menu-item"
            onClick={() => {
              close(false);
              void signOut().then(() => navigate("/login", { replace: true }));
            }}
          >
            Sign out
          </button>
        </div>
      )}
      {dialog && (
        <ChangePasswordDialog
          onClose={() => {
            setDialog(false);
            buttonRef.current?.focus();
          }}
        />
      )}
    </div>
  );
}

// Every command of the app, one line each as `module::command` (the function in
// src/commands/<module>.rs, whose name is the command's name). This is the one list: the build
// step declares these commands from it (build.rs), so that a capability can grant them; the
// builder registers their handler from it (commands/mod.rs); and the UI's list of names,
// ui/src/bindings/contract.ts, is generated from it (src/contract.rs). It is a file of its own
// because build.rs includes it. A new command also needs a capability that grants it
// (capabilities/*.json), its call in ui/src/ipc.ts, and, if it takes or answers with a type of
// its own, that type among the roots in src/contract.rs: the contract tests say which is missing.
commands! {
    calls::dial,
    calls::hang_up,
    calls::transfer,
    calls::live_calls,
    calls::link_status,
    history::history,
    history::today,
    directory::workplaces,
    history::callbacks,
    history::export_history,
    history::save_recording,
    contacts::contacts,
    contacts::add_contact,
    contacts::update_contact,
    contacts::delete_contact,
    contacts::import_contacts,
    contacts::export_contacts,
    settings::settings,
    settings::save_settings,
    settings::set_workplace,
    settings::about,
    settings::last_prune,
    settings::save_diagnostics,
    account::account,
    account::sign_in,
    account::sign_out,
    account::save_account,
    account::dismiss_welcome,
    account::restart_app,
    routing::routing,
    routing::set_router,
    routing::set_parking,
    routing::save_routing_rules,
    popup::popup_call,
    popup::dismiss_popup,
    popup::open_crm,
    links::take_dial_request,
}

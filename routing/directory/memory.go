package directory

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-memdb"
)

// Table and index names of the embedded databases.
const (
	tableCustomers = "customers"
	tableContacts  = "contacts"
	indexID        = "id"
	indexManager   = "manager"
)

// Memory keeps the directory and the caller history in embedded go-memdb
// databases: the store of a single node without Redis.
//
// Replace builds a complete new customer database and swaps it in with one
// atomic pointer store: lookups running meanwhile read the old one, later
// ones the new one. Contacts older than the keep time are not returned and
// are pruned as new ones are recorded.
type Memory struct {
	customers atomic.Pointer[memCustomers]

	contacts *memdb.MemDB
	keep     time.Duration
	now      func() time.Time

	mu        sync.Mutex // serialises pruning
	lastPrune time.Time
}

type memCustomers struct {
	db      *memdb.MemDB
	version string
}

// NewMemory returns an empty Memory that forgets contacts after keep
// (default 30 days).
func NewMemory(keep time.Duration) *Memory {
	if keep <= 0 {
		keep = DefaultKeep
	}
	contacts, err := memdb.NewMemDB(&memdb.DBSchema{Tables: map[string]*memdb.TableSchema{
		tableContacts: {Name: tableContacts, Indexes: map[string]*memdb.IndexSchema{
			indexID: {Name: indexID, Unique: true, Indexer: &memdb.StringFieldIndex{Field: "Number"}},
		}},
	}})
	if err != nil {
		panic(fmt.Sprintf("directory: contacts schema: %v", err)) // a programming error
	}
	m := &Memory{contacts: contacts, keep: keep, now: time.Now}
	empty, err := newCustomerDB()
	if err != nil {
		panic(fmt.Sprintf("directory: customers schema: %v", err))
	}
	m.customers.Store(&memCustomers{db: empty})
	return m
}

// DefaultKeep is how long a caller's last contact is kept by default.
const DefaultKeep = 30 * 24 * time.Hour

func newCustomerDB() (*memdb.MemDB, error) {
	return memdb.NewMemDB(&memdb.DBSchema{Tables: map[string]*memdb.TableSchema{
		tableCustomers: {Name: tableCustomers, Indexes: map[string]*memdb.IndexSchema{
			indexID:      {Name: indexID, Unique: true, Indexer: &memdb.StringFieldIndex{Field: "Number"}},
			indexManager: {Name: indexManager, AllowMissing: true, Indexer: &memdb.StringFieldIndex{Field: "AccountManager"}},
		}},
	}})
}

// Lookup implements Customers.
func (m *Memory) Lookup(_ context.Context, number string) (Customer, bool, error) {
	txn := m.customers.Load().db.Txn(false)
	raw, err := txn.First(tableCustomers, indexID, number)
	if err != nil {
		return Customer{}, false, fmt.Errorf("directory: lookup %s: %w", number, err)
	}
	if raw == nil {
		return Customer{}, false, nil
	}
	return raw.(*Customer).clone(), true, nil
}

// Managed returns the numbers of the customers whose account manager is
// agent.
func (m *Memory) Managed(agent string) ([]string, error) {
	txn := m.customers.Load().db.Txn(false)
	it, err := txn.Get(tableCustomers, indexManager, agent)
	if err != nil {
		return nil, fmt.Errorf("directory: customers of %s: %w", agent, err)
	}
	var out []string
	for raw := it.Next(); raw != nil; raw = it.Next() {
		out = append(out, raw.(*Customer).Number)
	}
	return out, nil
}

// Replace implements Customers.
func (m *Memory) Replace(_ context.Context, d *Directory, version string) error {
	if m.customers.Load().version == version && version != "" {
		return nil
	}
	db, err := newCustomerDB()
	if err != nil {
		return fmt.Errorf("directory: %w", err)
	}
	txn := db.Txn(true)
	// The rows are d's own: a Directory is read-only once loaded, and
	// Lookup hands out copies.
	for i := range d.customers {
		c := &d.customers[i]
		if err := txn.Insert(tableCustomers, c); err != nil {
			txn.Abort()
			return fmt.Errorf("directory: load %s: %w", c.Number, err)
		}
	}
	txn.Commit()
	m.customers.Store(&memCustomers{db: db, version: version})
	return nil
}

// Version implements Customers.
func (m *Memory) Version(context.Context) (string, error) {
	return m.customers.Load().version, nil
}

// LastContact implements History.
func (m *Memory) LastContact(_ context.Context, number string) (Contact, bool, error) {
	raw, err := m.contacts.Txn(false).First(tableContacts, indexID, number)
	if err != nil {
		return Contact{}, false, fmt.Errorf("directory: last contact of %s: %w", number, err)
	}
	if raw == nil {
		return Contact{}, false, nil
	}
	c := *raw.(*Contact)
	if !c.Within(m.keep, m.now()) {
		return Contact{}, false, nil
	}
	c.Survey = cloneMap(c.Survey)
	return c, true, nil
}

// Record implements History.
func (m *Memory) Record(_ context.Context, c Contact) error {
	if c.Number == "" {
		return fmt.Errorf("directory: record a contact without a number")
	}
	c.Survey = cloneMap(c.Survey)
	txn := m.contacts.Txn(true)
	if err := txn.Insert(tableContacts, &c); err != nil {
		txn.Abort()
		return fmt.Errorf("directory: record contact of %s: %w", c.Number, err)
	}
	txn.Commit()
	m.prune()
	return nil
}

// prune deletes expired contacts, at most every keep/10.
func (m *Memory) prune() {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if now.Sub(m.lastPrune) < m.keep/10 {
		return
	}
	m.lastPrune = now
	txn := m.contacts.Txn(true)
	defer txn.Commit()
	it, err := txn.Get(tableContacts, indexID)
	if err != nil {
		return
	}
	var old []*Contact
	for raw := it.Next(); raw != nil; raw = it.Next() {
		if c := raw.(*Contact); !c.Within(m.keep, now) {
			old = append(old, c)
		}
	}
	for _, c := range old {
		_ = txn.Delete(tableContacts, c)
	}
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
